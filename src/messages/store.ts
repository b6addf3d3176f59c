import type { RuntimeContext, Store } from "../core/context.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageChange } from "../core/storage.js";
import type { MessageEvents } from "./events.js";
import type { MessageDTO } from "./model.js";

/** What another capability does with messages as they go and come (requests ride on messages). */
export interface MessageHooks {
  sent(message: MessageDTO): Promise<void>;
  received(message: MessageDTO): Promise<void>;
}

/** The messages the own identity sent and received, and their announcement. */
export class MessageStore implements Store {
  readonly messages: RecordCollection<MessageDTO>;
  readonly #context: RuntimeContext<unknown, MessageEvents>;
  readonly #hooks: MessageHooks;

  constructor(context: RuntimeContext<unknown, MessageEvents>, parts: { hooks: MessageHooks }) {
    this.#context = context;
    this.#hooks = parts.hooks;
    const { address } = context;
    // Filed under the other identities involved, so decomposition finds a peer's messages by index.
    this.messages = new RecordCollection<MessageDTO>(context.storage, `${address}/messages`, (message) => ({
      peers: message.createdBy === address ? message.recipients : [message.createdBy],
    }));
  }

  get collections(): readonly string[] {
    return [this.messages.name];
  }

  /** Keeps a message the own identity sent, and lets the hooks see it. */
  async sent(message: MessageDTO): Promise<void> {
    await this.messages.save(message);
    await this.#hooks.sent(message);
  }

  /**
   * Keeps a message the Backbone delivered and announces it, then lets the hooks see it; announced once,
   * however often the push is handed over (by this process or another serving the identity).
   */
  async receive(message: MessageDTO): Promise<void> {
    const { storage, address, events } = this.#context;
    const announce = await storage.transaction(
      async (tx) => {
        if ((await this.messages.in(tx).get(message.id)) !== undefined) return undefined;
        return events.commit(
          tx,
          [this.messages.put(message)],
          [{ name: "transport.messageReceived", data: message }],
        );
      },
      [address],
    );
    announce?.();
    // Also when handed over again after a failure half-way: what the hooks do is done once however often.
    await this.#hooks.received(message);
  }

  /**
   * The changes that forget a peer's messages when decomposing: messages from or to the peer go, except that
   * an own message to several recipients only loses the peer.
   */
  async forgetPeer(peer: string): Promise<StorageChange[]> {
    return (await this.messages.listByPeer(peer)).map((message) => {
      const remaining = message.recipients.filter((recipient) => recipient !== peer);
      return message.createdBy === this.#context.address && remaining.length > 0
        ? this.messages.put({ ...message, recipients: remaining })
        : this.messages.delete(message.id);
    });
  }
}
