import type { JsonObject } from "../core/json.js";
import { isPlainObject } from "../core/json.js";
import { idPattern } from "../core/ids.js";

/**
 * Draft: an own request not sent yet; Open: sent, waiting for the peer; ManualDecisionRequired: a peer's
 * request waiting for the own decision; Completed: decided, the response is there.
 * @example
 * const outgoing = (await runtime.requests.getOutgoingRequests()).unwrap();
 * const waiting: LocalRequestStatus = "Open";
 * const unanswered = outgoing.filter((request) => request.status === waiting);
 */
export type LocalRequestStatus = "Draft" | "Open" | "ManualDecisionRequired" | "Completed";

/** Every request status, for validation and documentation. */
export const LOCAL_REQUEST_STATUSES: readonly LocalRequestStatus[] = [
  "Draft",
  "Open",
  "ManualDecisionRequired",
  "Completed",
];

/**
 * The decision on a request, kept on both sides once it is Completed.
 * @example
 * const request = (await runtime.requests.getRequest({ id: requestId })).unwrap();
 * const response: LocalRequestResponse | undefined = request.response;
 * if (response?.result === "Accepted") console.log(`accepted at ${response.createdAt}`);
 */
export interface LocalRequestResponse {
  /** Whether the peer (or, on an incoming request, the own identity) accepted or rejected the request. */
  result: "Accepted" | "Rejected";
  /** When the response was sent: the creation date of the message that carries it. */
  createdAt: string;
}

/**
 * A request to or from a peer, as this runtime keeps it.
 * @example
 * runtime.events.on("consumption.outgoingRequestStatusChanged", (event) => {
 *   const request: LocalRequestDTO = event.data;
 *   if (request.status === "Completed") console.log(request.peer, request.response?.result);
 * });
 */
export interface LocalRequestDTO {
  /** `"REQ"` followed by 17 letters and digits; the same on both sides, and the `id` in `content`. */
  id: string;
  /** Whether the own identity created it (outgoing) or the peer did (incoming). */
  isOwn: boolean;
  /** The address of the other side: the recipient of an own request, the creator of an incoming one. */
  peer: string;
  /** Where the request stands. */
  status: LocalRequestStatus;
  /** When the own request was created; for a peer's request, when the message carrying it was created. */
  createdAt: string;
  /** Carries `"@type": "Request"` and `id`, so the peer can tell a request from other message content. */
  content: JsonObject;
  /** Set once the request is Completed. */
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
