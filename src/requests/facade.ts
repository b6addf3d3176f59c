import { bindMethods } from "../core/bind.js";
import { fail, succeed } from "../core/errors.js";
import type { CheckResult, RuntimeResult } from "../core/errors.js";
import { generateId } from "../core/ids.js";
import type { RecordCollection } from "../core/record-collection.js";
import type { UseCaseRunner } from "../core/use-case.js";
import { requestSchema, rules, NO_REQUEST } from "../core/validation.js";
import type { MessageBox } from "../messages/message-box.js";
import type { RelationshipDTO } from "../relationships/model.js";
import type { LocalRequestDTO, LocalRequestResponse, ResponseContent } from "./model.js";
import type { RequestBook } from "./request-book.js";
import { checkRequestPeer, CREATE_STATUSES, DECIDE_STATUSES } from "./rules.js";

export interface CreateOutgoingRequestRequest {
  peer: string;
  /** A JSON object; the request sets its `"@type"` to `"Request"` and its `id` to the request's id. */
  content: unknown;
}

export interface IncomingRequestIdRequest {
  requestId: string;
}

const createRequest = requestSchema({ peer: rules.address(), content: rules.jsonObject() });
const incomingRequest = requestSchema({ requestId: rules.id("REQ") });
const byIdRequest = requestSchema({ id: rules.id("REQ") });

/**
 * Requests to and from peers, minimal but real: an outgoing request is created (Draft), sent in a message
 * (Open), decided by the peer (Completed on both sides). Peers in deletion or deleted cannot take part.
 */
export class RequestsFacade {
  readonly #runner: UseCaseRunner;
  readonly #book: RequestBook;
  readonly #box: MessageBox;
  readonly #relationships: RecordCollection<RelationshipDTO>;
  readonly #now: () => Date;

  constructor(
    runner: UseCaseRunner,
    book: RequestBook,
    box: MessageBox,
    relationships: RecordCollection<RelationshipDTO>,
    now: () => Date,
  ) {
    this.#runner = runner;
    this.#book = book;
    this.#box = box;
    this.#relationships = relationships;
    this.#now = now;
    bindMethods(this);
  }

  /**
   * Whether an outgoing request to `peer` could be created now, and if not, why. Never acts.
   * @example
   * const check = await runtime.requests.canCreateOutgoingRequest({ peer, content: { question: "?" } });
   */
  canCreateOutgoingRequest(request: CreateOutgoingRequestRequest): Promise<RuntimeResult<CheckResult>> {
    return this.#runner.check(createRequest, request, ({ peer }) => this.#checkPeer(peer, CREATE_STATUSES));
  }

  /**
   * Creates an outgoing request to a peer with a Pending or Active relationship: Draft until sent with
   * `messages.sendMessage({ recipients: [peer], content: request.content })`.
   * @example
   * const draft = (await runtime.requests.createOutgoingRequest({ peer, content: { question: "Newsletter?" } })).unwrap();
   * await runtime.messages.sendMessage({ recipients: [peer], content: draft.content });
   */
  createOutgoingRequest(request: CreateOutgoingRequestRequest): Promise<RuntimeResult<LocalRequestDTO>> {
    return this.#runner.mutate(createRequest, request, async ({ peer, content }) => {
      const allowed = await this.#checkPeer(peer, CREATE_STATUSES);
      if (allowed.err) return allowed;
      const id = generateId("REQ");
      const draft: LocalRequestDTO = {
        id,
        isOwn: true,
        peer,
        status: "Draft",
        createdAt: this.#now().toISOString(),
        content: { ...content, "@type": "Request", id },
      };
      await this.#book.requests.save(draft);
      return succeed(draft);
    });
  }

  /**
   * A request, outgoing or incoming, by id.
   * @example
   * const request = await runtime.requests.getRequest({ id: "REQ…" });
   */
  getRequest(request: { id: string }): Promise<RuntimeResult<LocalRequestDTO>> {
    return this.#runner.run(byIdRequest, request, async ({ id }) => {
      const found = await this.#book.requests.get(id);
      return found === undefined ? fail("error.runtime.recordNotFound", "Request", id) : succeed(found);
    });
  }

  /**
   * The own requests, oldest first.
   * @example
   * const outgoing = await runtime.requests.getOutgoingRequests();
   */
  getOutgoingRequests(): Promise<RuntimeResult<LocalRequestDTO[]>> {
    return this.#runner.run(NO_REQUEST, undefined, async () =>
      succeed((await this.#book.requests.list()).filter((r) => r.isOwn)),
    );
  }

  /**
   * The peers' requests, oldest first.
   * @example
   * const incoming = await runtime.requests.getIncomingRequests();
   */
  getIncomingRequests(): Promise<RuntimeResult<LocalRequestDTO[]>> {
    return this.#runner.run(NO_REQUEST, undefined, async () =>
      succeed((await this.#book.requests.list()).filter((r) => !r.isOwn)),
    );
  }

  /**
   * Whether an incoming request could be accepted now, and if not, why. Never acts.
   * @example
   * const check = await runtime.requests.canAcceptIncomingRequest({ requestId });
   */
  canAcceptIncomingRequest(request: IncomingRequestIdRequest): Promise<RuntimeResult<CheckResult>> {
    return this.#canDecide(request);
  }

  /**
   * Whether an incoming request could be rejected now, and if not, why. Never acts.
   * @example
   * const check = await runtime.requests.canRejectIncomingRequest({ requestId });
   */
  canRejectIncomingRequest(request: IncomingRequestIdRequest): Promise<RuntimeResult<CheckResult>> {
    return this.#canDecide(request);
  }

  /**
   * Accepts a peer's request: the response goes back to the peer, and both sides are Completed.
   * @example
   * await runtime.requests.acceptIncomingRequest({ requestId });
   */
  acceptIncomingRequest(request: IncomingRequestIdRequest): Promise<RuntimeResult<LocalRequestDTO>> {
    return this.#decide(request, "Accepted");
  }

  /**
   * Rejects a peer's request: the response goes back to the peer, and both sides are Completed.
   * @example
   * await runtime.requests.rejectIncomingRequest({ requestId });
   */
  rejectIncomingRequest(request: IncomingRequestIdRequest): Promise<RuntimeResult<LocalRequestDTO>> {
    return this.#decide(request, "Rejected");
  }

  #canDecide(request: IncomingRequestIdRequest): Promise<RuntimeResult<CheckResult>> {
    return this.#runner.check(incomingRequest, request, ({ requestId }) => this.#decidable(requestId));
  }

  #decide(
    request: IncomingRequestIdRequest,
    result: LocalRequestResponse["result"],
  ): Promise<RuntimeResult<LocalRequestDTO>> {
    // One decision per request at a time: a second one waits, then finds the request Completed.
    return this.#runner.mutate(incomingRequest, request, ({ requestId }) =>
      this.#book.exclusively(requestId, () => this.#decideNow(requestId, result)),
    );
  }

  async #decideNow(
    requestId: string,
    result: LocalRequestResponse["result"],
  ): Promise<RuntimeResult<LocalRequestDTO>> {
    const decidable = await this.#decidable(requestId);
    if (decidable.err) return decidable;
    const incoming = decidable.val;
    const content: ResponseContent = { "@type": "Response", requestId, result };
    const sent = await this.#box.send([incoming.peer], { ...content });
    if (sent.err) return sent;
    return succeed(
      await this.#book.update(
        { ...incoming, status: "Completed", response: { result, createdAt: sent.val.createdAt } },
        "consumption.incomingRequestStatusChanged",
      ),
    );
  }

  /** The incoming request, if it may be decided now (peer rules first, then the request's own status). */
  async #decidable(requestId: string): Promise<RuntimeResult<LocalRequestDTO>> {
    const incoming = await this.#book.requests.get(requestId);
    if (incoming === undefined || incoming.isOwn)
      return fail("error.runtime.recordNotFound", "incoming Request", requestId);
    const allowed = await this.#checkPeer(incoming.peer, DECIDE_STATUSES);
    if (allowed.err) return allowed;
    if (incoming.status !== "ManualDecisionRequired") {
      return fail("error.consumption.requests.wrongRequestStatus", requestId, incoming.status, [
        "ManualDecisionRequired",
      ]);
    }
    return succeed(incoming);
  }

  async #checkPeer(peer: string, allowed: typeof CREATE_STATUSES): Promise<RuntimeResult<void>> {
    return checkRequestPeer(peer, await this.#relationships.listByPeer(peer), allowed, this.#now());
  }
}
