import { fail } from "../../core/errors.js";
import type { RuntimeResult } from "../../core/errors.js";
import { requestSchema, rules, validateRequest } from "../../core/validation.js";
import type { IncomingRequestIdRequest } from "../../requests/facade.js";
import { LOCAL_REQUEST_STATUSES } from "../../requests/model.js";
import type { Runtime } from "../../runtime/runtime.js";
import { connectorRequest, connectorValidationResult } from "./connector-shapes.js";
import type { ConnectorRequest } from "./connector-shapes.js";
import { filterParameters, listFilter } from "./query.js";
import type { ListFilters } from "./query.js";
import { shapedAs } from "./route.js";
import type { ServedRoute } from "./route.js";
import { ADDRESS, listOf, REQUEST, VALIDATION_RESULT } from "./schemas.js";

/** Outgoing: the own requests; incoming: the peers'. Each route sees only its own direction. */
type Direction = "Outgoing" | "Incoming";

/**
 * The SDK's DecideRequest: `items`, one decision per item. The request is decided as a whole here, so the
 * items are accepted as they come and not looked at.
 */
const decideBody = requestSchema(
  { items: rules.optional(rules.array(rules.json())) },
  { mayBeOmitted: true },
);

const FILTERS: ListFilters<ConnectorRequest> = {
  id: {
    description: "Only the request with this id.",
    rule: rules.id("REQ"),
    valuesOf: (request) => [request.id],
  },
  peer: {
    description: "Only the requests to (outgoing) or from (incoming) this address.",
    rule: rules.address(),
    valuesOf: (request) => [request.peer],
  },
  status: {
    description: `Only the requests in this status: ${LOCAL_REQUEST_STATUSES.join(", ")}.`,
    rule: rules.oneOf(LOCAL_REQUEST_STATUSES),
    valuesOf: (request) => [request.status],
  },
  "response.content.result": {
    description: "Only the requests decided this way: Accepted or Rejected.",
    rule: rules.oneOf(["Accepted", "Rejected"]),
    valuesOf: (request) => [request.response?.content.result],
  },
};

const REQUEST_BODY = {
  type: "object",
  required: ["peer", "content"],
  additionalProperties: false,
  properties: {
    peer: ADDRESS,
    content: {
      type: "object",
      description:
        'The request, e.g. `{ "items": [...] }`; its "@type" becomes "Request" and its id the new id.',
    },
  },
};

const DECIDE_BODY = {
  type: "object",
  additionalProperties: false,
  properties: {
    items: { type: "array", description: "Accepted, not looked at: the request is decided as a whole." },
  },
};

function listRoute(direction: Direction, operationId: string, summary: string): ServedRoute {
  return {
    method: "GET",
    path: `/Requests/${direction}`,
    operationId,
    summary,
    successStatus: 200,
    query: filterParameters(FILTERS),
    result: listOf(REQUEST),
    run: async (runtime, { query }) => {
      const matches = listFilter(query, FILTERS);
      if (matches.err) return matches;
      const requests = await (direction === "Outgoing"
        ? runtime.requests.getOutgoingRequests()
        : runtime.requests.getIncomingRequests());
      return shapedAs(requests, (all) => all.map(connectorRequest).filter(matches.val));
    },
  };
}

function byIdRoute(direction: Direction, operationId: string, summary: string): ServedRoute {
  return {
    method: "GET",
    path: `/Requests/${direction}/{id}`,
    operationId,
    summary,
    successStatus: 200,
    result: REQUEST,
    run: async (runtime, { params }) => {
      const id = params["id"] ?? "";
      const request = await runtime.requests.getRequest({ id });
      if (request.ok && request.val.isOwn !== (direction === "Outgoing"))
        return fail("error.runtime.recordNotFound", `${direction.toLowerCase()} Request`, id);
      return shapedAs(request, connectorRequest);
    },
  };
}

/**
 * `PUT /Requests/Incoming/{id}/<action>`: a decision on the incoming request, or its check. The body is the
 * SDK's DecideRequest, checked for its form only.
 */
function decisionRoute<T>(
  action: string,
  operationId: string,
  summary: string,
  result: Record<string, unknown>,
  useCase: (runtime: Runtime, request: IncomingRequestIdRequest) => Promise<RuntimeResult<T>>,
  shape: (value: T) => unknown,
): ServedRoute {
  return {
    method: "PUT",
    path: `/Requests/Incoming/{id}/${action}`,
    operationId,
    summary,
    successStatus: 200,
    body: DECIDE_BODY,
    result,
    run: async (runtime, { params, body }) => {
      const valid = validateRequest(decideBody, body);
      if (valid.err) return valid;
      return shapedAs(await useCase(runtime, { requestId: params["id"] ?? "" }), shape);
    },
  };
}

/** Requests to and from peers, riding on messages. */
export const REQUEST_ROUTES: readonly ServedRoute[] = [
  {
    method: "POST",
    path: "/Requests/Outgoing/Validate",
    operationId: "canCreateOutgoingRequest",
    summary: "Whether an outgoing request to `peer` could be created now, and if not, why. Never acts.",
    successStatus: 201,
    body: REQUEST_BODY,
    result: VALIDATION_RESULT,
    run: async (runtime, { body }) =>
      shapedAs(await runtime.requests.canCreateOutgoingRequest(body as never), connectorValidationResult),
  },
  {
    method: "POST",
    path: "/Requests/Outgoing",
    operationId: "createOutgoingRequest",
    summary:
      "Creates an outgoing request (Draft); sending its `content` in a message to the peer makes it Open.",
    successStatus: 201,
    body: REQUEST_BODY,
    result: REQUEST,
    run: async (runtime, { body }) =>
      shapedAs(await runtime.requests.createOutgoingRequest(body as never), connectorRequest),
  },
  listRoute("Outgoing", "getOutgoingRequests", "The own requests, oldest first."),
  byIdRoute("Outgoing", "getOutgoingRequest", "An own request; an incoming one is not found here."),
  listRoute("Incoming", "getIncomingRequests", "The peers' requests, oldest first."),
  byIdRoute("Incoming", "getIncomingRequest", "A peer's request; an own one is not found here."),
  decisionRoute(
    "CanAccept",
    "canAcceptIncomingRequest",
    "Whether the incoming request could be accepted now, and if not, why. Never acts.",
    VALIDATION_RESULT,
    (runtime, request) => runtime.requests.canAcceptIncomingRequest(request),
    connectorValidationResult,
  ),
  decisionRoute(
    "Accept",
    "acceptIncomingRequest",
    "Accepts the incoming request: the response goes back to the peer, both sides Completed.",
    REQUEST,
    (runtime, request) => runtime.requests.acceptIncomingRequest(request),
    connectorRequest,
  ),
  decisionRoute(
    "CanReject",
    "canRejectIncomingRequest",
    "Whether the incoming request could be rejected now, and if not, why. Never acts.",
    VALIDATION_RESULT,
    (runtime, request) => runtime.requests.canRejectIncomingRequest(request),
    connectorValidationResult,
  ),
  decisionRoute(
    "Reject",
    "rejectIncomingRequest",
    "Rejects the incoming request: the response goes back to the peer, both sides Completed.",
    REQUEST,
    (runtime, request) => runtime.requests.rejectIncomingRequest(request),
    connectorRequest,
  ),
];
