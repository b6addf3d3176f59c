import type { JsonValue } from "../core/json.js";
import { isPlainObject } from "../core/json.js";

/**
 * A message the own identity sent or received.
 * @example
 * for (const message of (await runtime.messages.getMessages()).unwrap()) {
 *   const from = message.createdBy === runtime.address ? "me" : message.createdBy;
 *   console.log(message.createdAt, from, "→", message.recipients, message.content);
 * }
 */
export interface MessageDTO {
  /** `MSG…`, the same for the sender and every recipient. */
  id: string;
  /** The sender's address. */
  createdBy: string;
  /**
   * The recipients' addresses. The sender's copy loses a recipient whose relationship the sender decomposed.
   */
  recipients: string[];
  /** Any JSON value; a Notification when its "@type" is "Notification". */
  content: JsonValue;
  /** When the Backbone relayed it, by its clock: ISO 8601 in UTC with milliseconds. */
  createdAt: string;
}

/** A Notification may still reach peers whose relationship is Terminated or who are in deletion (behaviour §7). */
export function isNotification(content: unknown): boolean {
  return isPlainObject(content) && content["@type"] === "Notification";
}
