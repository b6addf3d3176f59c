// An integrator's app: a CRM on the shop's runtime that closes a customer's account once the customer's
// identity is deleted.
import type { Runtime } from "identity-runtime";

export class Crm {
  readonly #closed = new Set<string>();

  constructor(shop: Runtime) {
    shop.events.on("transport.peerDeleted", (event) => {
      this.#closed.add(event.data.peer);
    });
  }

  isClosed(customer: string): boolean {
    return this.#closed.has(customer);
  }
}
