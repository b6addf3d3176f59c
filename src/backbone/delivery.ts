import { generateId } from "../core/ids.js";
import { cloneJson } from "../core/json.js";
import { KeyedLock } from "../core/keyed-lock.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageChange, StorageOperations } from "../core/storage.js";
import type { Delivery } from "../core/unit-of-work.js";
import type { DeletionPush } from "../identity-deletion/local-backbone.js";
import type { MessagePush } from "../messages/local-backbone.js";
import type { RelationshipPush } from "../relationships/local-backbone.js";
import type { BackboneInbox } from "./backbone.js";

/** Everything the Backbone pushes to runtimes, as data, so that it can wait in the outbox while one is away. */
export type Push = RelationshipPush | MessagePush | DeletionPush;

interface OutboxEntry {
  id: string;
  recipient: string;
  push: Push;
}

const OUTBOX = "backbone/outbox";

/**
 * The LocalBackbone's push delivery. Every push is written to the outbox in the unit of work that causes it,
 * so a push exists exactly when its cause does. After the commit, the pushes for runtimes connected here are
 * handed over, oldest first, and each leaves the outbox once its runtime has taken it; a runtime that is away
 * gets what waits for it when it connects.
 */
export class PushDelivery {
  readonly #outbox: RecordCollection<OutboxEntry>;
  readonly #inboxes = new Map<string, BackboneInbox>();
  /** One hand-over run per recipient at a time, so each push is handed over once and in order. */
  readonly #handingOver = new KeyedLock();
  readonly #onDeliveryError: (error: unknown, address: string) => void;
  /** Hand-overs under way, and the timers of those to be tried again. */
  readonly #running = new Set<Promise<void>>();
  readonly #retries = new Map<string, NodeJS.Timeout>();
  /** The pause before handing over again to a runtime that failed to apply a push. */
  readonly #retryDelays = new Map<string, number>();

  constructor(parts: {
    storage: StorageOperations;
    onDeliveryError: (error: unknown, address: string) => void;
  }) {
    this.#outbox = new RecordCollection(parts.storage, OUTBOX, (entry) => ({ peers: [entry.recipient] }));
    this.#onDeliveryError = parts.onDeliveryError;
  }

  /**
   * The outbox entries of these pushes, for the unit of work that causes them, and a notification per
   * recipient, which wakes the Backbones (in any process) that have the recipient connected once it commits.
   */
  entries(deliveries: readonly Delivery<Push>[]): StorageChange[] {
    const recipients = new Set(deliveries.map(({ address }) => address));
    return [
      ...deliveries.map(({ address, push }) =>
        this.#outbox.put({ id: generateId("PSH"), recipient: address, push }),
      ),
      ...[...recipients].map((topic): StorageChange => ({ kind: "notify", topic })),
    ];
  }

  /**
   * A Backbone (this one or another on the storage) wrote pushes for `recipient`, or for anyone
   * (`undefined`): hands over what waits for those connected here.
   */
  wake(recipient: string | undefined): void {
    const addresses = recipient === undefined ? [...this.#inboxes.keys()] : [recipient];
    void this.deliver(addresses.map((address) => ({ address })));
  }

  /** Connects a runtime and hands it, in order, what was pushed while it was away. */
  async connect(address: string, inbox: BackboneInbox): Promise<() => void> {
    this.#inboxes.set(address, inbox);
    await this.#handOverWaiting(address);
    return () => {
      if (this.#inboxes.get(address) === inbox) this.#inboxes.delete(address);
    };
  }

  /**
   * After a commit: hands what waits in the outbox to those of these recipients connected here. It never
   * fails the change, which is written: what could not be handed over waits for the next hand-over.
   */
  deliver(deliveries: readonly Pick<Delivery<Push>, "address">[]): Promise<void> {
    const running = (async () => {
      for (const address of new Set(deliveries.map((delivery) => delivery.address))) {
        if (!this.#inboxes.has(address)) continue;
        await this.#handOverWaiting(address);
      }
    })();
    // Tracked, so that `close` can wait for hand-overs that no call awaits (a wake-up, a retry).
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
    return running;
  }

  /** Disconnects every runtime, forgets the retries, and waits for hand-overs under way. */
  async close(): Promise<void> {
    this.#inboxes.clear();
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    await Promise.allSettled([...this.#running]);
  }

  /**
   * Hands over what waits for `address`, oldest first. A push leaves the outbox only once its runtime has
   * applied it; one the runtime failed to apply (or the storage to list or remove) stays, with everything
   * after it, and is handed over again later (after 1 s, doubling up to a minute), on the next push, or when
   * the runtime connects again.
   */
  #handOverWaiting(address: string): Promise<void> {
    return this.#handingOver.run(address, async () => {
      try {
        for (const entry of await this.#outbox.listByPeer(address)) {
          const inbox = this.#inboxes.get(address);
          if (inbox === undefined) return;
          await handOver(inbox, entry.push);
          await this.#outbox.commit([this.#outbox.delete(entry.id)]);
        }
        this.#retryDelays.delete(address);
      } catch (error) {
        // The runtime failed to apply a push, or the storage failed to list or remove one: all of it stays.
        this.#onDeliveryError(error, address);
        this.#retryLater(address);
      }
    });
  }

  /** One retry per recipient pending at a time; each that fails again waits twice as long. */
  #retryLater(address: string): void {
    if (this.#retries.has(address)) return;
    const delay = Math.min(Math.max((this.#retryDelays.get(address) ?? 0) * 2, 1_000), 60_000);
    this.#retryDelays.set(address, delay);
    const timer = setTimeout(() => {
      this.#retries.delete(address);
      void this.deliver([{ address }]);
    }, delay);
    timer.unref();
    this.#retries.set(address, timer);
  }
}

async function handOver(inbox: BackboneInbox, push: Push): Promise<void> {
  // Every recipient gets its own copy: runtimes on one Backbone never share objects.
  const copy = cloneJson(push);
  switch (copy.kind) {
    case "relationshipChanged":
      return inbox.relationshipChanged(copy.relationship, copy.peerDeletion);
    case "relationshipDecomposed":
      return inbox.relationshipDecomposed(copy.relationshipId);
    case "messageReceived":
      return inbox.messageReceived(copy.message);
    case "identityDeletionProcessChanged":
      return inbox.identityDeletionProcessChanged(copy.process);
  }
}
