import type { JsonValue } from "../core/json.js";
import { isPlainObject } from "../core/json.js";

export interface MessageDTO {
  id: string;
  createdBy: string;
  recipients: string[];
  content: JsonValue;
  createdAt: string;
}

/** A Notification may still reach peers whose relationship is Terminated or who are in deletion (behaviour §7). */
export function isNotification(content: unknown): boolean {
  return isPlainObject(content) && content["@type"] === "Notification";
}
