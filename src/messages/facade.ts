import type { Backbone } from "../backbone/backbone.js";
import { fail, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import type { Publisher } from "../core/events.js";
import type { JsonValue } from "../core/json.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageAdapter, StorageChange } from "../core/storage.js";
import type { UseCaseRunner } from "../core/use-case.js";
import { requestSchema, rules } from "../core/validation.js";
import type { RelationshipDTO } from "../relationships/model.js";
import type { MessageEvents } from "./events.js";
import { isNotification } from "./model.js";
import type { MessageDTO } from "./model.js";
import { checkRecipients } from "./rules.js";

export interface SendMessageRequest {
  /** Addresses of peers; at least one, no duplicates. */
  recipients: string[];
  /** Any JSON; a Notification is content whose "@type" is "Notification". */
  content: JsonValue;
}

const sendRequest = requestSchema({
  recipients: rules.array(rules.address(), { minItems: 1 }),
  content: rules.json(),
});
const noRequest = requestSchema({}, { mayBeOmitted: true });

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

/**
 * The changes that forget a peer's messages when decomposing: messages from or to the peer go, except that
 * an own message to several recipients only loses the peer.
 */
export async function forgetPeerInMessages(
  messages: RecordCollection<MessageDTO>,
  ownAddress: string,
  peer: string,
): Promise<StorageChange[]> {
  return (await messages.listByPeer(peer)).map((message) => {
    const remaining = message.recipients.filter((recipient) => recipient !== peer);
    return message.createdBy === ownAddress && remaining.length > 0
      ? messages.put({ ...message, recipients: remaining })
      : messages.delete(message.id);
  });
}

/** What the facade and the Backbone's pushes share: keeping a received message and announcing it. */
export async function receiveMessage(
  messages: RecordCollection<MessageDTO>,
  events: Publisher<MessageEvents>,
  message: MessageDTO,
): Promise<void> {
  await messages.save(message);
  events.publish("transport.messageReceived", message);
}

/** Messages between the own identity and its peers. */
export class MessagesFacade {
  constructor(
    private readonly runner: UseCaseRunner,
    private readonly ownAddress: string,
    private readonly backbone: Backbone,
    private readonly messages: RecordCollection<MessageDTO>,
    private readonly relationships: RecordCollection<RelationshipDTO>,
  ) {}

  /**
   * Sends a message to peers. Non-Notifications need an Active relationship to every recipient; a
   * Notification also reaches peers whose relationship is Terminated (behaviour §7).
   * @example
   * const sent = await runtime.messages.sendMessage({ recipients: [peer], content: { "@type": "Mail", body: "Hi" } });
   */
  sendMessage(request: SendMessageRequest): Promise<RuntimeResult<MessageDTO>> {
    return this.runner.mutate(sendRequest, request, async ({ recipients, content }) => {
      const duplicate = recipients.find((recipient, index) => recipients.indexOf(recipient) !== index);
      if (duplicate !== undefined) {
        return fail(
          "error.runtime.validation.invalidPropertyValue",
          `recipients must not list ${duplicate} twice`,
        );
      }
      const standings = await Promise.all(
        recipients.map(async (address) => ({
          address,
          relationships: await this.relationships.listByPeer(address),
        })),
      );
      const allowed = checkRecipients(standings, isNotification(content));
      if (allowed.err) return allowed;
      const sent = await this.backbone.sendMessage(this.ownAddress, recipients, content);
      if (sent.ok) await this.messages.save(sent.val);
      return sent;
    });
  }

  /**
   * Every message sent or received by the own identity, oldest first.
   * @example
   * const messages = await runtime.messages.getMessages();
   */
  getMessages(): Promise<RuntimeResult<MessageDTO[]>> {
    return this.runner.run(noRequest, undefined, async () => succeed(await this.messages.list()));
  }
}
