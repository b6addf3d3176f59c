import type { RuntimeContext, Store } from "../core/context.js";
import { cloneJson } from "../core/json.js";
import { KeyedLock } from "../core/keyed-lock.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageChange } from "../core/storage.js";
import type { MessageHooks } from "../messages/store.js";
import type { MessageDTO } from "../messages/model.js";
import type { RequestEvents } from "./events.js";
import { requestIdOf, responseOf } from "./model.js";
import type { LocalRequestDTO } from "./model.js";

/** The local requests, kept in step with the messages that carry them. */
export class RequestStore implements Store, MessageHooks {
  readonly requests: RecordCollection<LocalRequestDTO>;
  readonly #context: RuntimeContext<unknown, RequestEvents>;
  /** Every read-modify-write of one request runs alone: deciding, sending and a response can overlap. */
  readonly #lock = new KeyedLock();

  constructor(context: RuntimeContext<unknown, RequestEvents>) {
    this.#context = context;
    this.requests = new RecordCollection<LocalRequestDTO>(
      context.storage,
      `${context.address}/requests`,
      (request) => ({ peers: [request.peer] }),
    );
  }

  get collections(): readonly string[] {
    return [this.requests.name];
  }

  /** The requests to and from the peer go with it. */
  forgetPeer(peer: string): Promise<StorageChange[]> {
    return Promise.resolve([this.requests.deleteByPeer(peer)]);
  }

  /** An own Draft request sent to its peer is Open. */
  async sent(message: MessageDTO): Promise<void> {
    const id = requestIdOf(message.content);
    if (id === undefined) return;
    await this.exclusively(id, () =>
      this.change(id, "consumption.outgoingRequestStatusChanged", (kept) =>
        kept?.isOwn === true && kept.status === "Draft" && message.recipients.includes(kept.peer)
          ? { ...kept, status: "Open" }
          : undefined,
      ),
    );
  }

  /** Runs `work` while no other change of request `id` runs. */
  exclusively<T>(id: string, work: () => Promise<T>): Promise<T> {
    return this.#lock.run(id, work);
  }

  /** A peer's request becomes an incoming one; a peer's response completes the own request it answers. */
  async received(message: MessageDTO): Promise<void> {
    const requestId = requestIdOf(message.content);
    if (requestId !== undefined) {
      const incoming: LocalRequestDTO = {
        id: requestId,
        isOwn: false,
        peer: message.createdBy,
        status: "ManualDecisionRequired",
        createdAt: message.createdAt,
        content: message.content as LocalRequestDTO["content"],
      };
      // Once, however often the message is handed over, by this process or another serving the identity.
      await this.change(requestId, "consumption.incomingRequestReceived", (kept) =>
        kept === undefined ? incoming : undefined,
      );
      return;
    }
    const response = responseOf(message.content);
    if (response === undefined) return;
    await this.exclusively(response.requestId, () =>
      this.change(response.requestId, "consumption.outgoingRequestStatusChanged", (kept) => {
        // A response may overtake the own "sent" bookkeeping (the peer decides while the send is still being
        // recorded), so a Draft counts as sent: its random id only ever leaves the runtime in that message.
        const awaited = kept?.status === "Open" || kept?.status === "Draft";
        if (kept?.isOwn !== true || !awaited || kept.peer !== message.createdBy) return undefined;
        return {
          ...kept,
          status: "Completed",
          response: { result: response.result, createdAt: message.createdAt },
        };
      }),
    );
  }

  /**
   * Changes request `id` to what `next` makes of the request kept now (undefined: no request), and announces
   * `event`; when `next` answers undefined, nothing changes and nothing is announced. The read, the check and
   * the write are one transaction about the identity, so two processes serving it never both change the
   * request. Resolves to the request written, if any.
   */
  async change(
    id: string,
    event: keyof RequestEvents,
    next: (kept: LocalRequestDTO | undefined) => LocalRequestDTO | undefined,
  ): Promise<LocalRequestDTO | undefined> {
    const { storage, address, events } = this.#context;
    const changed = await storage.transaction(
      async (tx) => {
        const request = next(await this.requests.in(tx).get(id));
        if (request === undefined) return undefined;
        // Listeners get their own copy: what they do to it never reaches the caller's result.
        const announce = await events.commit(
          tx,
          [this.requests.put(request)],
          [{ name: event, data: cloneJson(request) }],
        );
        return { request, announce };
      },
      [address],
    );
    changed?.announce();
    return changed?.request;
  }
}
