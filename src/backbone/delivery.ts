import { generateId } from "../core/ids.js";
import { cloneJson } from "../core/json.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageAdapter } from "../core/storage.js";
import type { UnitOfWork } from "../core/unit-of-work.js";
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

/**
 * The LocalBackbone's push delivery: the inboxes of connected runtimes, and an outbox for those that are away,
 * delivered in order when they connect.
 */
export class PushDelivery {
  readonly #storage: StorageAdapter;
  readonly #outbox: RecordCollection<OutboxEntry>;
  readonly #inboxes = new Map<string, BackboneInbox>();
  readonly #onDeliveryError: (error: unknown, address: string) => void;

  constructor(parts: {
    storage: StorageAdapter;
    onDeliveryError: (error: unknown, address: string) => void;
  }) {
    this.#storage = parts.storage;
    this.#outbox = new RecordCollection(parts.storage, "backbone/outbox", (entry) => ({
      peers: [entry.recipient],
    }));
    this.#onDeliveryError = parts.onDeliveryError;
  }

  /** Connects a runtime and hands it, in order, what was pushed while it was away. */
  async connect(address: string, inbox: BackboneInbox): Promise<() => void> {
    this.#inboxes.set(address, inbox);
    for (const entry of await this.#outbox.listByPeer(address)) {
      await this.#handOver(inbox, address, entry.push);
      await this.#outbox.commit([this.#outbox.delete(entry.id)]);
    }
    return () => {
      if (this.#inboxes.get(address) === inbox) this.#inboxes.delete(address);
    };
  }

  /**
   * Writes a unit of work, with the pushes for runtimes that are not connected in the outbox, in one commit;
   * then hands the other pushes to their runtimes. Nothing is told that was not written, and nothing written
   * is left untold.
   */
  async commitAndDeliver(work: UnitOfWork<Push>): Promise<void> {
    const away = work.deliveries.filter(({ address }) => !this.#inboxes.has(address));
    const changes = [
      ...work.changes,
      ...away.map(({ address, push }) =>
        this.#outbox.put({ id: generateId("PSH"), recipient: address, push }),
      ),
    ];
    if (changes.length > 0) await this.#storage.commit(changes);
    for (const { address, push } of work.deliveries) {
      const inbox = this.#inboxes.get(address);
      if (inbox !== undefined) await this.#handOver(inbox, address, push);
    }
  }

  disconnectAll(): void {
    this.#inboxes.clear();
  }

  async #handOver(inbox: BackboneInbox, address: string, push: Push): Promise<void> {
    // Every recipient gets its own copy: runtimes on one Backbone never share objects.
    const copy = cloneJson(push);
    try {
      switch (copy.kind) {
        case "relationshipChanged":
          await inbox.relationshipChanged(copy.relationship, copy.peerDeletion);
          break;
        case "messageReceived":
          await inbox.messageReceived(copy.message);
          break;
        case "identityDeletionProcessChanged":
          await inbox.identityDeletionProcessChanged(copy.process);
          break;
      }
    } catch (error) {
      this.#onDeliveryError(error, address);
    }
  }
}
