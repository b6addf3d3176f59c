import type { Backbone } from "../backbone/backbone.js";
import type { RuntimeResult } from "../core/errors.js";
import type { Publisher } from "../core/events.js";
import type { JsonValue } from "../core/json.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageAdapter, StorageChange } from "../core/storage.js";
import type { RelationshipDTO } from "../relationships/model.js";
import type { MessageEvents } from "./events.js";
import { isNotification } from "./model.js";
import type { MessageDTO } from "./model.js";
import { checkRecipients } from "./rules.js";

/** What another capability does with messages as they go and come (requests ride on messages). */
export interface MessageHooks {
  sent(message: MessageDTO): Promise<void>;
  received(message: MessageDTO): Promise<void>;
}

export function messageCollection(
  storage: StorageAdapter,
  scope: string,
  ownAddress: string,
): RecordCollection<MessageDTO> {
  // Filed under the other identities involved, so decomposition finds a peer's messages by index.
  return new RecordCollection<MessageDTO>(storage, `${scope}/messages`, (message) => ({
    peers: message.createdBy === ownAddress ? message.recipients : [message.createdBy],
  }));
}

/** Sending and receiving messages: the rules of behaviour §7, the Backbone relay and the local copies. */
export class MessageBox {
  constructor(
    private readonly ownAddress: string,
    private readonly backbone: Backbone,
    readonly messages: RecordCollection<MessageDTO>,
    private readonly relationships: RecordCollection<RelationshipDTO>,
    private readonly events: Publisher<MessageEvents>,
    private readonly hooks: MessageHooks,
    private readonly now: () => Date,
  ) {}

  async send(recipients: readonly string[], content: JsonValue): Promise<RuntimeResult<MessageDTO>> {
    const standings = await Promise.all(
      recipients.map(async (address) => ({
        address,
        relationships: await this.relationships.listByPeer(address),
      })),
    );
    const allowed = checkRecipients(standings, isNotification(content), this.now());
    if (allowed.err) return allowed;
    const sent = await this.backbone.sendMessage(this.ownAddress, recipients, content);
    if (sent.ok) {
      await this.messages.save(sent.val);
      await this.hooks.sent(sent.val);
    }
    return sent;
  }

  /** Keeps a message the Backbone delivered, lets the hooks see it, then announces it. */
  async receive(message: MessageDTO): Promise<void> {
    await this.messages.save(message);
    await this.hooks.received(message);
    this.events.publish("transport.messageReceived", message);
  }

  /**
   * The changes that forget a peer's messages when decomposing: messages from or to the peer go, except that
   * an own message to several recipients only loses the peer.
   */
  async forgetPeer(peer: string): Promise<StorageChange[]> {
    return (await this.messages.listByPeer(peer)).map((message) => {
      const remaining = message.recipients.filter((recipient) => recipient !== peer);
      return message.createdBy === this.ownAddress && remaining.length > 0
        ? this.messages.put({ ...message, recipients: remaining })
        : this.messages.delete(message.id);
    });
  }
}
