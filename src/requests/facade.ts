import type { RuntimeContext } from "../core/context.js";
import { fail, foundOr, succeed } from "../core/errors.js";
import type { CheckResult, RuntimeResult } from "../core/errors.js";
import { generateId } from "../core/ids.js";
import { requestSchema, rules, NO_REQUEST } from "../core/validation.js";
import type { SendMessage } from "../messages/facade.js";
import type { RelationshipStore } from "../relationships/store.js";
import type { LocalRequestDTO, LocalRequestResponse, ResponseContent } from "./model.js";
import type { RequestStore } from "./store.js";
import { checkRequestPeer, CREATE_STATUSES, DECIDE_STATUSES } from "./rules.js";

/**
 * What `createOutgoingRequest` and `canCreateOutgoingRequest` take.
 * @example
 * const request: CreateOutgoingRequestRequest = { peer, content: { question: "Newsletter?" } };
 * const check = (await runtime.requests.canCreateOutgoingRequest(request)).unwrap();
 * if (check.isSuccess) await runtime.requests.createOutgoingRequest(request);
 */
export interface CreateOutgoingRequestRequest {
  /** The address of the peer the request is for: a relationship with it must be Pending or Active. */
  peer: string;
  /** A JSON object; the request sets its `"@type"` to `"Request"` and its `id` to the request's id. */
  content: unknown;
}

/**
 * Names a peer's request, to accept or reject it (or ask whether that is possible now).
 * @example
 * runtime.events.on("consumption.incomingRequestReceived", async (event) => {
 *   const request: IncomingRequestIdRequest = { requestId: event.data.id };
 *   await runtime.requests.acceptIncomingRequest(request);
 * });
 */
export interface IncomingRequestIdRequest {
  /** The id of the incoming request (`"REQ…"`), the same on both sides. */
  requestId: string;
}

const createRequest = requestSchema({ peer: rules.address(), content: rules.jsonObject() });
const incomingRequest = requestSchema({ requestId: rules.id("REQ") });
const byIdRequest = requestSchema({ id: rules.id("REQ") });

/** What the Requests facade is built from, besides the runtime context. */
export interface RequestsFacadeParts {
  store: RequestStore;
  /** Responses ride on messages. */
  send: SendMessage;
  /** The relationship to a peer decides whether it may take part. */
  relationships: RelationshipStore;
}

/**
 * Requests to and from peers, minimal but real: an outgoing request is created (Draft), sent in a message
 * (Open), decided by the peer (Completed on both sides). Peers in deletion or deleted cannot take part.
 */
export function requestsFacade(context: RuntimeContext, parts: RequestsFacadeParts) {
  function canDecide(request: IncomingRequestIdRequest): Promise<RuntimeResult<CheckResult>> {
    return context.useCases.check(incomingRequest, request, ({ requestId }) => decidable(requestId));
  }

  function decide(
    request: IncomingRequestIdRequest,
    result: LocalRequestResponse["result"],
  ): Promise<RuntimeResult<LocalRequestDTO>> {
    // One decision per request at a time: a second one waits, then finds the request Completed.
    return context.useCases.mutate(incomingRequest, request, ({ requestId }) =>
      parts.store.exclusively(requestId, () => decideNow(requestId, result)),
    );
  }

  async function decideNow(
    requestId: string,
    result: LocalRequestResponse["result"],
  ): Promise<RuntimeResult<LocalRequestDTO>> {
    const allowed = await decidable(requestId);
    if (allowed.err) return allowed;
    const incoming = allowed.val;
    const content: ResponseContent = { "@type": "Response", requestId, result };
    const sent = await parts.send([incoming.peer], { ...content });
    if (sent.err) return sent;
    const decided = await parts.store.change(requestId, "consumption.incomingRequestStatusChanged", (kept) =>
      kept?.status === "ManualDecisionRequired"
        ? { ...kept, status: "Completed", response: { result, createdAt: sent.val.createdAt } }
        : undefined,
    );
    // Decided meanwhile by another process serving the identity: its decision stands.
    if (decided === undefined)
      return fail("error.consumption.requests.wrongRequestStatus", requestId, "Completed", [
        "ManualDecisionRequired",
      ]);
    return succeed(decided);
  }

  /** The incoming request, if it may be decided now (peer rules first, then the request's own status). */
  async function decidable(requestId: string): Promise<RuntimeResult<LocalRequestDTO>> {
    const incoming = await parts.store.requests.get(requestId);
    if (incoming === undefined || incoming.isOwn)
      return fail("error.runtime.recordNotFound", "incoming Request", requestId);
    const allowed = await checkPeer(incoming.peer, DECIDE_STATUSES);
    if (allowed.err) return allowed;
    if (incoming.status !== "ManualDecisionRequired") {
      return fail("error.consumption.requests.wrongRequestStatus", requestId, incoming.status, [
        "ManualDecisionRequired",
      ]);
    }
    return succeed(incoming);
  }

  async function checkPeer(peer: string, allowed: typeof CREATE_STATUSES): Promise<RuntimeResult<void>> {
    return checkRequestPeer(
      peer,
      await parts.relationships.relationships.listByPeer(peer),
      allowed,
      context.clock.now(),
    );
  }

  return {
    /**
     * Whether an outgoing request to `peer` could be created now, and if not, why. Never acts.
     * @example
     * const check = await runtime.requests.canCreateOutgoingRequest({ peer, content: { question: "?" } });
     */
    canCreateOutgoingRequest(request: CreateOutgoingRequestRequest): Promise<RuntimeResult<CheckResult>> {
      return context.useCases.check(createRequest, request, ({ peer }) => checkPeer(peer, CREATE_STATUSES));
    },

    /**
     * Creates an outgoing request to a peer with a Pending or Active relationship: Draft until sent with
     * `messages.sendMessage({ recipients: [peer], content: request.content })`.
     * @example
     * const draft = (await runtime.requests.createOutgoingRequest({ peer, content: { question: "Newsletter?" } })).unwrap();
     * await runtime.messages.sendMessage({ recipients: [peer], content: draft.content });
     */
    createOutgoingRequest(request: CreateOutgoingRequestRequest): Promise<RuntimeResult<LocalRequestDTO>> {
      return context.useCases.mutate(createRequest, request, async ({ peer, content }) => {
        const allowed = await checkPeer(peer, CREATE_STATUSES);
        if (allowed.err) return allowed;
        const id = generateId("REQ");
        const draft: LocalRequestDTO = {
          id,
          isOwn: true,
          peer,
          status: "Draft",
          createdAt: context.clock.now().toISOString(),
          content: { ...content, "@type": "Request", id },
        };
        await parts.store.requests.save(draft);
        return succeed(draft);
      });
    },

    /**
     * A request, outgoing or incoming, by id.
     * @example
     * const request = await runtime.requests.getRequest({ id: "REQ…" });
     */
    getRequest(request: { id: string }): Promise<RuntimeResult<LocalRequestDTO>> {
      return context.useCases.run(byIdRequest, request, async ({ id }) =>
        foundOr(await parts.store.requests.get(id), "Request", id),
      );
    },

    /**
     * The own requests, oldest first.
     * @example
     * const outgoing = await runtime.requests.getOutgoingRequests();
     */
    getOutgoingRequests(): Promise<RuntimeResult<LocalRequestDTO[]>> {
      return context.useCases.run(NO_REQUEST, undefined, async () =>
        succeed((await parts.store.requests.list()).filter((r) => r.isOwn)),
      );
    },

    /**
     * The peers' requests, oldest first.
     * @example
     * const incoming = await runtime.requests.getIncomingRequests();
     */
    getIncomingRequests(): Promise<RuntimeResult<LocalRequestDTO[]>> {
      return context.useCases.run(NO_REQUEST, undefined, async () =>
        succeed((await parts.store.requests.list()).filter((r) => !r.isOwn)),
      );
    },

    /**
     * Whether an incoming request could be accepted now, and if not, why. Never acts.
     * @example
     * const check = await runtime.requests.canAcceptIncomingRequest({ requestId });
     */
    canAcceptIncomingRequest(request: IncomingRequestIdRequest): Promise<RuntimeResult<CheckResult>> {
      return canDecide(request);
    },

    /**
     * Whether an incoming request could be rejected now, and if not, why. Never acts.
     * @example
     * const check = await runtime.requests.canRejectIncomingRequest({ requestId });
     */
    canRejectIncomingRequest(request: IncomingRequestIdRequest): Promise<RuntimeResult<CheckResult>> {
      return canDecide(request);
    },

    /**
     * Accepts a peer's request: the response goes back to the peer, and both sides are Completed.
     * @example
     * await runtime.requests.acceptIncomingRequest({ requestId });
     */
    acceptIncomingRequest(request: IncomingRequestIdRequest): Promise<RuntimeResult<LocalRequestDTO>> {
      return decide(request, "Accepted");
    },

    /**
     * Rejects a peer's request: the response goes back to the peer, and both sides are Completed.
     * @example
     * await runtime.requests.rejectIncomingRequest({ requestId });
     */
    rejectIncomingRequest(request: IncomingRequestIdRequest): Promise<RuntimeResult<LocalRequestDTO>> {
      return decide(request, "Rejected");
    },
  };
}

/**
 * The Requests use cases of one runtime: `runtime.requests`. Its methods work detached too.
 * @useDeclaredType
 * @example
 * const requests: RequestsFacade = runtime.requests;
 * for (const request of (await requests.getIncomingRequests()).unwrap()) {
 *   if (request.status === "ManualDecisionRequired") await requests.rejectIncomingRequest({ requestId: request.id });
 * }
 */
export type RequestsFacade = ReturnType<typeof requestsFacade>;
