import type { JsonObject } from "../core/json.js";
import { isPlainObject } from "../core/json.js";
import { idPattern } from "../core/ids.js";

/**
 * Draft: an own request not sent yet; Open: sent, waiting for the peer; ManualDecisionRequired: a peer's
 * request waiting for the own decision; Completed: decided, the response is there.
 */
export type LocalRequestStatus = "Draft" | "Open" | "ManualDecisionRequired" | "Completed";

export interface LocalRequestResponse {
  result: "Accepted" | "Rejected";
  createdAt: string;
}

export interface LocalRequestDTO {
  id: string;
  /** Whether the own identity created it (outgoing) or the peer did (incoming). */
  isOwn: boolean;
  peer: string;
  status: LocalRequestStatus;
  createdAt: string;
  /** Carries `"@type": "Request"` and `id`, so the peer can tell a request from other message content. */
  content: JsonObject;
  response?: LocalRequestResponse;
}

/** What travels back to the request's creator when a request is decided. */
export interface ResponseContent {
  "@type": "Response";
  requestId: string;
  result: LocalRequestResponse["result"];
}

const REQUEST_ID = idPattern("REQ");

export function requestIdOf(content: unknown): string | undefined {
  return isPlainObject(content) &&
    content["@type"] === "Request" &&
    typeof content["id"] === "string" &&
    REQUEST_ID.test(content["id"])
    ? content["id"]
    : undefined;
}

export function responseOf(content: unknown): ResponseContent | undefined {
  if (!isPlainObject(content) || content["@type"] !== "Response") return undefined;
  const { requestId, result } = content;
  if (typeof requestId !== "string" || (result !== "Accepted" && result !== "Rejected")) return undefined;
  return { "@type": "Response", requestId, result };
}
