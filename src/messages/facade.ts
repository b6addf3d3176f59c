import type { RuntimeContext } from "../core/context.js";
import { fail, foundOr, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import { requestSchema, rules, NO_REQUEST } from "../core/validation.js";
import type { RelationshipStore } from "../relationships/store.js";
import type { MessagesBackbone } from "./backbone.js";
import { isNotification } from "./model.js";
import type { MessageDTO } from "./model.js";
import { checkRecipients } from "./rules.js";
import type { MessageStore } from "./store.js";

/**
 * What `sendMessage` sends, and to whom.
 * @example
 * const request: SendMessageRequest = {
 *   recipients: [ada.address],
 *   content: { "@type": "Notification", text: "We have moved" },
 * };
 * const sent = await runtime.messages.sendMessage(request);
 * if (sent.err) console.log(sent.val.code); // e.g. "error.transport.messages.peerIsDeleted"
 */
export interface SendMessageRequest {
  /** Addresses of peers; at least one, no duplicates. */
  recipients: string[];
  /** Any JSON value (checked at run time); a Notification is content whose "@type" is "Notification". */
  content: unknown;
}

const sendRequest = requestSchema({
  recipients: rules.array(rules.address(), { minItems: 1 }),
  content: rules.json(),
});
const byIdRequest = requestSchema({ id: rules.id("MSG") });

/** Sends a checked message: its use case without the request validation, which requests reuse for responses. */
export type SendMessage = (
  recipients: readonly string[],
  content: JsonValue,
) => Promise<RuntimeResult<MessageDTO>>;

/** Sends under the rules of behaviour §7 through the Backbone, then keeps the sent message. */
export function messageSender(
  context: RuntimeContext<MessagesBackbone>,
  parts: { store: MessageStore; relationships: RelationshipStore },
): SendMessage {
  return async (recipients, content) => {
    const standings = await Promise.all(
      recipients.map(async (address) => ({
        address,
        relationships: await parts.relationships.relationships.listByPeer(address),
      })),
    );
    const allowed = checkRecipients(standings, isNotification(content), context.clock.now());
    if (allowed.err) return allowed;
    const sent = await context.backbone.sendMessage(context.address, recipients, content);
    if (sent.ok) await parts.store.sent(sent.val);
    return sent;
  };
}

/** What the Messages facade is built from, besides the runtime context. */
export interface MessagesFacadeParts {
  store: MessageStore;
  send: SendMessage;
}

/** Messages between the own identity and its peers. */
export function messagesFacade(context: RuntimeContext, parts: MessagesFacadeParts) {
  return {
    /**
     * Sends a message to peers. Non-Notifications need an Active relationship to every recipient; a
     * Notification also reaches peers whose relationship is Terminated (behaviour §7).
     * @example
     * const sent = await runtime.messages.sendMessage({ recipients: [peer], content: { "@type": "Mail", body: "Hi" } });
     */
    sendMessage(request: SendMessageRequest): Promise<RuntimeResult<MessageDTO>> {
      return context.useCases.mutate(sendRequest, request, async ({ recipients, content }) => {
        const duplicate = recipients.find((recipient, index) => recipients.indexOf(recipient) !== index);
        if (duplicate !== undefined) {
          return fail(
            "error.runtime.validation.invalidPropertyValue",
            `recipients must not list ${duplicate} twice`,
          );
        }
        return parts.send(recipients, content);
      });
    },

    /**
     * Every message sent or received by the own identity, oldest first.
     * @example
     * const messages = await runtime.messages.getMessages();
     */
    getMessages(): Promise<RuntimeResult<MessageDTO[]>> {
      return context.useCases.run(NO_REQUEST, undefined, async () =>
        succeed(await parts.store.messages.list()),
      );
    },

    /**
     * A message sent or received by the own identity, by id; `error.runtime.recordNotFound` for one it never
     * had or forgot when decomposing the relationship to its peer.
     * @example
     * const message = await runtime.messages.getMessage({ id: "MSG…" });
     * if (message.ok) console.log(message.val.createdBy, message.val.content);
     */
    getMessage(request: { id: string }): Promise<RuntimeResult<MessageDTO>> {
      return context.useCases.run(byIdRequest, request, async ({ id }) =>
        foundOr(await parts.store.messages.get(id), "Message", id),
      );
    },
  };
}

/**
 * The Messages use cases of one runtime: `runtime.messages`. Its methods work detached too.
 * @example
 * const { sendMessage, getMessages, getMessage }: MessagesFacade = runtime.messages;
 * const sent = (await sendMessage({ recipients: [ada.address], content: { "@type": "Mail", body: "Hello" } })).unwrap();
 * const messages = (await getMessages()).unwrap();
 * const again = (await getMessage({ id: sent.id })).unwrap();
 * @useDeclaredType
 */
export type MessagesFacade = ReturnType<typeof messagesFacade>;
