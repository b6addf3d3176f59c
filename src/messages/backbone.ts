import type { RuntimeResult } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import type { MessageDTO } from "./model.js";

/** The messages part of the Backbone port: the relay. */
export interface MessagesBackbone {
  /** Delivers the message to every recipient's runtime before resolving. */
  sendMessage(
    sender: string,
    recipients: readonly string[],
    content: JsonValue,
  ): Promise<RuntimeResult<MessageDTO>>;
}

/** What the Backbone pushes to a runtime about messages. */
export interface MessagesInbox {
  /** A message to the own identity arrived: the runtime keeps and announces it, once however often pushed. */
  messageReceived(message: MessageDTO): Promise<void>;
}
