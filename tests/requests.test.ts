import type {
  CheckResult,
  JsonObject,
  JsonValue,
  LocalRequestDTO,
  RelationshipStatus,
  Runtime,
  RuntimeError,
  RuntimeResult,
} from "../src/index";
import { CODE, err, ok, recordEvents, START, UNKNOWN_ADDRESS, worldPerTest } from "./support";

const REQUEST_ID = /^REQ[A-Za-z0-9]{17}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const QUESTION = { question: "Newsletter?", details: { weekly: true, topics: ["a", "b"] } };
/** A well-formed request id that no runtime has handed out. */
const UNKNOWN_REQUEST = "REQAAAAAAAAAAAAAAAAA";

const EVENTS = [
  "consumption.incomingRequestReceived",
  "consumption.outgoingRequestStatusChanged",
  "consumption.incomingRequestStatusChanged",
  "transport.messageReceived",
  "transport.relationshipChanged",
] as const;

const w = worldPerTest();

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** Everything of a runtime that a request call could change. */
async function snapshot(runtime: Runtime) {
  return {
    outgoing: ok(await runtime.requests.getOutgoingRequests()),
    incoming: ok(await runtime.requests.getIncomingRequests()),
    messages: ok(await runtime.messages.getMessages()),
  };
}

/** Every event of interest on the runtime, as name and data. */
function watch(runtime: Runtime) {
  const seen = recordEvents(runtime, ...EVENTS);
  return {
    names: () => seen.map((event) => event.name),
    all: () => seen,
  };
}

/** Runs `call` and asserts that it changed nothing on any of `runtimes` and published no event there. */
async function changesNothing<T>(runtimes: Runtime[], call: () => Promise<T>): Promise<T> {
  const before = await Promise.all(runtimes.map(snapshot));
  const events = runtimes.map((runtime) => recordEvents(runtime, ...EVENTS));
  const result = await call();
  expect(await Promise.all(runtimes.map(snapshot))).toStrictEqual(before);
  expect(events.map((seen) => seen.map((event) => event.name))).toStrictEqual(runtimes.map(() => []));
  return result;
}

/** Asserts an Err with `code` whose message names `mention`, and that the call changed nothing. */
async function refused(
  runtimes: Runtime[],
  call: () => Promise<RuntimeResult<unknown>>,
  code: string,
  mention: string,
): Promise<RuntimeError> {
  const error = err(await changesNothing(runtimes, call));
  expect(error.code).toBe(code);
  expect(error.message).toContain(mention);
  return error;
}

/** Asserts a failed check with `code` whose message names `mention`, and that the check changed nothing. */
async function checkFails(
  runtimes: Runtime[],
  call: () => Promise<RuntimeResult<CheckResult>>,
  code: string,
  mention: string,
): Promise<CheckResult> {
  const check = ok(await changesNothing(runtimes, call));
  expect(check).toStrictEqual({ isSuccess: false, code, message: check.message });
  expect(check.message).toContain(mention);
  return check;
}

async function createDraft(from: Runtime, to: Runtime, content: JsonObject = QUESTION) {
  return ok(await from.requests.createOutgoingRequest({ peer: to.address, content }));
}

/** Creates an outgoing request of `from` to `to` and sends it: Open on `from`, incoming on `to`. */
async function sendRequest(from: Runtime, to: Runtime, content: JsonObject = QUESTION) {
  const draft = await createDraft(from, to, content);
  ok(await from.messages.sendMessage({ recipients: [to.address], content: draft.content }));
  return draft;
}

async function requestOf(runtime: Runtime, id: string): Promise<LocalRequestDTO> {
  return ok(await runtime.requests.getRequest({ id }));
}

async function enterDeletion(runtime: Runtime): Promise<void> {
  ok(await runtime.identityDeletion.initiateIdentityDeletionProcess());
}

async function beDeleted(runtime: Runtime): Promise<void> {
  await enterDeletion(runtime);
  w.clock.advance({ days: 15 });
  await w.backbone.runDueJobs();
}

type Relation = "none" | RelationshipStatus;
type PeerStanding = "fine" | "inDeletion" | "deleted";

/**
 * `a` (the template's creator) and `b` (who created the relationship from it), their relationship in
 * `relation` as `a` sees it, and `b` in `standing`. DeletionProposed: `b` decomposed a Terminated relationship.
 */
async function pair(relation: Relation, standing: PeerStanding = "fine") {
  let a: Runtime;
  let b: Runtime;
  if (relation === "none") {
    a = await w.runtime();
    b = await w.runtime();
  } else {
    const pending = relation === "Pending" || relation === "Rejected" || relation === "Revoked";
    const made = await w.connected(pending);
    ({ a, b } = made);
    const { relationshipId } = made;
    if (relation === "Rejected") ok(await a.relationships.rejectRelationship({ relationshipId }));
    if (relation === "Revoked") ok(await b.relationships.revokeRelationship({ relationshipId }));
    if (relation === "Terminated" || relation === "DeletionProposed")
      ok(await a.relationships.terminateRelationship({ relationshipId }));
    if (relation === "DeletionProposed") ok(await b.relationships.decomposeRelationship({ relationshipId }));
    expect(ok(await a.relationships.getRelationship({ id: relationshipId })).status).toBe(relation);
  }
  if (standing === "inDeletion") await enterDeletion(b);
  if (standing === "deleted") await beDeleted(b);
  return { a, b };
}

// ---------------------------------------------------------------------------------------------------------

describe("createOutgoingRequest", () => {
  test("returns a Draft with a REQ id, isOwn, the peer, createdAt and the content typed as Request with its id", async () => {
    const { a, b } = await w.connected();
    w.clock.advance({ seconds: 7 });
    const events = watch(a);
    const peerEvents = watch(b);

    const draft = await createDraft(a, b);

    expect(draft.id).toMatch(REQUEST_ID);
    expect(draft.createdAt).toMatch(ISO);
    expect(draft).toStrictEqual({
      id: draft.id,
      isOwn: true,
      peer: b.address,
      status: "Draft",
      createdAt: new Date(START.getTime() + 7000).toISOString(),
      content: { ...QUESTION, "@type": "Request", id: draft.id },
    });
    expect(await requestOf(a, draft.id)).toStrictEqual(draft);
    expect(ok(await a.requests.getOutgoingRequests())).toStrictEqual([draft]);
    expect(ok(await a.requests.getIncomingRequests())).toStrictEqual([]);
    // Creating does not send anything.
    expect(ok(await b.requests.getIncomingRequests())).toStrictEqual([]);
    expect(ok(await a.messages.getMessages())).toStrictEqual([]);
    expect(ok(await b.messages.getMessages())).toStrictEqual([]);
    expect(events.names()).toStrictEqual([]);
    expect(peerEvents.names()).toStrictEqual([]);
  });

  test("overwrites a given @type and id in the content with Request and the request's own id", async () => {
    const { a, b } = await w.connected();
    const draft = await createDraft(a, b, { "@type": "Notification", id: "mine", q: 1 });
    expect(draft.content).toStrictEqual({ "@type": "Request", id: draft.id, q: 1 });
  });

  test("every request gets its own id", async () => {
    const { a, b } = await w.connected();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await createDraft(a, b, { i })).id);
    expect(ids.size).toBe(5);
  });

  test("the stored request is a copy: mutating the given content or the returned DTO changes nothing", async () => {
    const { a, b } = await w.connected();
    const content = { nested: { value: 1 } };
    const draft = await createDraft(a, b, content);
    content.nested.value = 2;
    (draft.content["nested"] as { value: number }).value = 3;
    expect((await requestOf(a, draft.id)).content).toStrictEqual({
      nested: { value: 1 },
      "@type": "Request",
      id: draft.id,
    });
  });

  test("works over a Pending relationship, from either side; sending it waits for the relationship to be Active", async () => {
    const { a, b, relationshipId } = await w.connected(true);
    expect(ok(await a.requests.canCreateOutgoingRequest({ peer: b.address, content: {} }))).toStrictEqual({
      isSuccess: true,
    });
    expect(ok(await b.requests.canCreateOutgoingRequest({ peer: a.address, content: {} }))).toStrictEqual({
      isSuccess: true,
    });
    const fromA = await createDraft(a, b);
    const fromB = await createDraft(b, a);
    expect([fromA.status, fromB.status]).toStrictEqual(["Draft", "Draft"]);

    // §7 messages rule 3: a Request is no Notification and needs an Active relationship.
    await refused(
      [a, b],
      () => a.messages.sendMessage({ recipients: [b.address], content: fromA.content }),
      CODE.messagesHasNoActiveRelationship,
      b.address,
    );
    expect((await requestOf(a, fromA.id)).status).toBe("Draft");

    ok(await a.relationships.acceptRelationship({ relationshipId }));
    ok(await a.messages.sendMessage({ recipients: [b.address], content: fromA.content }));
    expect((await requestOf(a, fromA.id)).status).toBe("Open");
    expect((await requestOf(b, fromA.id)).status).toBe("ManualDecisionRequired");
  });

  test("an older Rejected relationship does not block when a newer one to the same peer is Active", async () => {
    const { a, b, relationshipId } = await w.connected(true);
    ok(await a.relationships.rejectRelationship({ relationshipId }));
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    const second = ok(await b.relationships.createRelationship({ templateId: template.id }));
    ok(await a.relationships.acceptRelationship({ relationshipId: second.id }));
    expect(ok(await a.requests.canCreateOutgoingRequest({ peer: b.address, content: {} }))).toStrictEqual({
      isSuccess: true,
    });
    await sendRequest(a, b);
  });
});

describe("requests lists", () => {
  test("getOutgoingRequests and getIncomingRequests list oldest first, also after status changes", async () => {
    const { a, b } = await w.connected();
    const first = await createDraft(a, b, { n: 1 });
    w.clock.advance({ seconds: 1 });
    const second = await sendRequest(a, b, { n: 2 });
    w.clock.advance({ seconds: 1 });
    const third = await sendRequest(a, b, { n: 3 });
    w.clock.advance({ seconds: 1 });
    ok(await a.messages.sendMessage({ recipients: [b.address], content: first.content }));
    ok(await b.requests.acceptIncomingRequest({ requestId: second.id }));

    expect(ok(await a.requests.getOutgoingRequests()).map((r) => r.id)).toStrictEqual([
      first.id,
      second.id,
      third.id,
    ]);
    expect(ok(await a.requests.getOutgoingRequests()).map((r) => r.status)).toStrictEqual([
      "Open",
      "Completed",
      "Open",
    ]);
    // The incoming side lists them in the order they arrived.
    expect(ok(await b.requests.getIncomingRequests()).map((r) => r.id)).toStrictEqual([
      second.id,
      third.id,
      first.id,
    ]);
    expect(ok(await b.requests.getOutgoingRequests())).toStrictEqual([]);
    expect(ok(await a.requests.getIncomingRequests())).toStrictEqual([]);
  });

  test("getRequest: unknown id → recordNotFound naming it; malformed id → validation naming id", async () => {
    const rt = await w.runtime();
    const missing = err(await rt.requests.getRequest({ id: UNKNOWN_REQUEST }));
    expect(missing.code).toBe(CODE.recordNotFound);
    expect(missing.message).toContain(UNKNOWN_REQUEST);
    for (const id of ["REQ123", "MSGAAAAAAAAAAAAAAAAA", "", 1]) {
      const error = err(await rt.requests.getRequest({ id } as never));
      expect(error.code).toBe(CODE.invalidPropertyValue);
      expect(error.message).toContain("id");
    }
  });
});

describe("sending, accepting and rejecting (happy path)", () => {
  test.each(["Accepted", "Rejected"] as const)(
    "%s: both sides end Completed with the same response, with events and the Response message on both",
    async (result) => {
      const { a, b } = await w.connected();
      const aEvents = watch(a);
      const bEvents = watch(b);

      w.clock.advance({ seconds: 1 });
      const draft = await createDraft(a, b);
      const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content: draft.content }));

      // Sent: Open on a, ManualDecisionRequired on b, before sendMessage resolved.
      const open = { ...draft, status: "Open" };
      expect(await requestOf(a, draft.id)).toStrictEqual(open);
      const incoming: LocalRequestDTO = {
        id: draft.id,
        isOwn: false,
        peer: a.address,
        status: "ManualDecisionRequired",
        createdAt: sent.createdAt,
        content: draft.content,
      };
      expect(await requestOf(b, draft.id)).toStrictEqual(incoming);
      expect(ok(await b.requests.getIncomingRequests())).toStrictEqual([incoming]);
      expect(aEvents.all().map((e) => [e.name, e.eventTargetAddress, e.data])).toStrictEqual([
        ["consumption.outgoingRequestStatusChanged", a.address, open],
      ]);
      expect(bEvents.names()).toStrictEqual([
        "transport.messageReceived",
        "consumption.incomingRequestReceived",
      ]);
      expect(bEvents.all()[1]?.data).toStrictEqual(incoming);
      expect(bEvents.all()[1]?.eventTargetAddress).toBe(b.address);

      // The checks say yes and do nothing.
      const can = await changesNothing([a, b], async () => [
        ok(await b.requests.canAcceptIncomingRequest({ requestId: draft.id })),
        ok(await b.requests.canRejectIncomingRequest({ requestId: draft.id })),
      ]);
      expect(can).toStrictEqual([{ isSuccess: true }, { isSuccess: true }]);

      w.clock.advance({ seconds: 5 });
      const decidedAt = w.clock.now().toISOString();
      const decided = ok(
        result === "Accepted"
          ? await b.requests.acceptIncomingRequest({ requestId: draft.id })
          : await b.requests.rejectIncomingRequest({ requestId: draft.id }),
      );
      const response = { result, createdAt: decidedAt };
      const completedIncoming = { ...incoming, status: "Completed", response };
      const completedOwn = { ...draft, status: "Completed", response };
      expect(decided).toStrictEqual(completedIncoming);
      expect(await requestOf(b, draft.id)).toStrictEqual(completedIncoming);
      expect(await requestOf(a, draft.id)).toStrictEqual(completedOwn);
      expect(ok(await a.requests.getOutgoingRequests())).toStrictEqual([completedOwn]);
      expect(ok(await b.requests.getIncomingRequests())).toStrictEqual([completedIncoming]);

      // The Response message is announced before what it does to the request, as in the enmeshed runtime.
      expect(aEvents.names()).toStrictEqual([
        "consumption.outgoingRequestStatusChanged",
        "transport.messageReceived",
        "consumption.outgoingRequestStatusChanged",
      ]);
      expect(aEvents.all()[2]?.data).toStrictEqual(completedOwn);
      expect(bEvents.names()).toStrictEqual([
        "transport.messageReceived",
        "consumption.incomingRequestReceived",
        "consumption.incomingRequestStatusChanged",
      ]);
      expect(bEvents.all()[2]?.data).toStrictEqual(completedIncoming);

      const responseId = ok(await a.messages.getMessages())[1]?.id;
      expect(responseId).toMatch(/^MSG[A-Za-z0-9]{17}$/);
      const responseMessage = {
        id: responseId,
        createdBy: b.address,
        recipients: [a.address],
        content: { "@type": "Response", requestId: draft.id, result },
        createdAt: decidedAt,
      };
      for (const runtime of [a, b]) {
        expect(ok(await runtime.messages.getMessages())).toStrictEqual([sent, responseMessage]);
      }
      expect(aEvents.all()[1]?.data).toStrictEqual(responseMessage);
    },
  );

  test("requests work in both directions over one relationship", async () => {
    const { a, b } = await w.connected();
    const fromA = await sendRequest(a, b);
    const fromB = await sendRequest(b, a);
    ok(await a.requests.rejectIncomingRequest({ requestId: fromB.id }));
    ok(await b.requests.acceptIncomingRequest({ requestId: fromA.id }));
    expect((await requestOf(a, fromA.id)).response?.result).toBe("Accepted");
    expect((await requestOf(b, fromB.id)).response?.result).toBe("Rejected");
    expect(ok(await a.requests.getOutgoingRequests()).map((r) => r.id)).toStrictEqual([fromA.id]);
    expect(ok(await a.requests.getIncomingRequests()).map((r) => r.id)).toStrictEqual([fromB.id]);
  });

  test("deciding the same request twice at once: exactly one decision wins, one Response is sent", async () => {
    const { a, b } = await w.connected();
    const draft = await sendRequest(a, b);
    const results = await Promise.all([
      b.requests.acceptIncomingRequest({ requestId: draft.id }),
      b.requests.rejectIncomingRequest({ requestId: draft.id }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.flatMap((r) => (r.err ? [r.val.code] : []))).toStrictEqual([
      CODE.requestsWrongRequestStatus,
    ]);
    const responses = ok(await a.messages.getMessages()).filter(
      (m) => (m.content as JsonObject)["@type"] === "Response",
    );
    expect(responses).toHaveLength(1);
    expect((await requestOf(a, draft.id)).response).toStrictEqual((await requestOf(b, draft.id)).response);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("creating a request: behaviour §7 rules, first that applies wins (create and canCreate agree)", () => {
  const cases: [string, Relation, PeerStanding, string][] = [
    ["peer deleted (relationship was Active)", "Active", "deleted", CODE.requestsPeerIsDeleted],
    ["peer deleted (relationship was Pending)", "Pending", "deleted", CODE.requestsPeerIsDeleted],
    ["peer deleted (relationship was Terminated)", "Terminated", "deleted", CODE.requestsPeerIsDeleted],
    ["peer in deletion (Active)", "Active", "inDeletion", CODE.requestsPeerIsInDeletion],
    ["peer in deletion (Pending)", "Pending", "inDeletion", CODE.requestsPeerIsInDeletion],
    [
      "peer in deletion ahead of the status rule (Terminated)",
      "Terminated",
      "inDeletion",
      CODE.requestsPeerIsInDeletion,
    ],
    ["no relationship", "none", "fine", CODE.requestsMissingRelationship],
    [
      "no relationship, peer in deletion (nothing tells us)",
      "none",
      "inDeletion",
      CODE.requestsMissingRelationship,
    ],
    ["relationship Rejected", "Rejected", "fine", CODE.requestsWrongRelationshipStatus],
    ["relationship Revoked", "Revoked", "fine", CODE.requestsWrongRelationshipStatus],
    ["relationship Terminated", "Terminated", "fine", CODE.requestsWrongRelationshipStatus],
    ["relationship DeletionProposed", "DeletionProposed", "fine", CODE.requestsWrongRelationshipStatus],
  ];

  test.each(cases)("%s → %s", async (_name, relation, standing, code) => {
    const { a, b } = await pair(relation, standing);
    const request = { peer: b.address, content: QUESTION };
    const check = await checkFails(
      [a, b],
      () => a.requests.canCreateOutgoingRequest(request),
      code,
      b.address,
    );
    const error = await refused([a, b], () => a.requests.createOutgoingRequest(request), code, b.address);
    expect(check.message).toBe(error.message);
  });

  test("a deleted peer's relationship is DeletionProposed, yet the deletion error wins over the status error", async () => {
    const { a, b } = await pair("Active", "deleted");
    const [relationship] = ok(await a.relationships.getRelationships({ peer: b.address }));
    expect(relationship?.status).toBe("DeletionProposed");
    expect(relationship?.peerDeletionInfo?.deletionStatus).toBe("Deleted");
    expect(err(await a.requests.createOutgoingRequest({ peer: b.address, content: {} })).code).toBe(
      CODE.requestsPeerIsDeleted,
    );
  });

  test.each(["Pending", "Active"] as const)("relationship %s → allowed", async (relation) => {
    const { a, b } = await pair(relation);
    expect(ok(await a.requests.canCreateOutgoingRequest({ peer: b.address, content: {} }))).toStrictEqual({
      isSuccess: true,
    });
    expect((await createDraft(a, b)).status).toBe("Draft");
    // The peer (the relationship's creator) may create one too.
    expect((await createDraft(b, a)).status).toBe("Draft");
  });

  test("a peer whose deletion only waits for approval (admin start) is not in deletion", async () => {
    const { a, b } = await pair("Active");
    const process = ok(await w.backbone.admin.startIdentityDeletionProcess(b.address));
    expect(process.status).toBe("WaitingForApproval");
    expect(ok(await a.requests.canCreateOutgoingRequest({ peer: b.address, content: {} }))).toStrictEqual({
      isSuccess: true,
    });
    const toB = await sendRequest(a, b);
    const toA = await sendRequest(b, a);
    expect(ok(await b.requests.canAcceptIncomingRequest({ requestId: toB.id }))).toStrictEqual({
      isSuccess: true,
    });
    expect(ok(await a.requests.canRejectIncomingRequest({ requestId: toA.id }))).toStrictEqual({
      isSuccess: true,
    });
    ok(await b.requests.acceptIncomingRequest({ requestId: toB.id }));
    ok(await a.requests.rejectIncomingRequest({ requestId: toA.id }));
    expect((await requestOf(a, toB.id)).status).toBe("Completed");
    expect((await requestOf(b, toA.id)).status).toBe("Completed");
  });

  test("once the peer has cancelled its deletion, creating works again", async () => {
    const { a, b } = await pair("Active", "inDeletion");
    expect(err(await a.requests.createOutgoingRequest({ peer: b.address, content: {} })).code).toBe(
      CODE.requestsPeerIsInDeletion,
    );
    ok(await b.identityDeletion.cancelIdentityDeletionProcess());
    expect(ok(await a.requests.canCreateOutgoingRequest({ peer: b.address, content: {} }))).toStrictEqual({
      isSuccess: true,
    });
    const draft = await sendRequest(a, b);
    expect((await requestOf(a, draft.id)).status).toBe("Open");
    expect((await requestOf(b, draft.id)).status).toBe("ManualDecisionRequired");
  });
});

describe("sending a Draft to a peer that entered deletion after it was created", () => {
  test("fails with §7 messages rule 2 (error.runtime.messages.peerIsInDeletion); the Draft stays Draft", async () => {
    const { a, b } = await w.connected();
    const draft = await createDraft(a, b);
    await enterDeletion(b);
    await refused(
      [a, b],
      () => a.messages.sendMessage({ recipients: [b.address], content: draft.content }),
      CODE.messagesPeerIsInDeletion,
      b.address,
    );
    expect(await requestOf(a, draft.id)).toStrictEqual(draft);
    expect(err(await b.requests.getRequest({ id: draft.id })).code).toBe(CODE.recordNotFound);

    // After the peer cancels, the same Draft can be sent.
    ok(await b.identityDeletion.cancelIdentityDeletionProcess());
    ok(await a.messages.sendMessage({ recipients: [b.address], content: draft.content }));
    expect((await requestOf(a, draft.id)).status).toBe("Open");
    expect((await requestOf(b, draft.id)).status).toBe("ManualDecisionRequired");
  });

  test("fails with §7 messages rule 1 once the peer is deleted; the Draft stays Draft", async () => {
    const { a, b } = await w.connected();
    const draft = await createDraft(a, b);
    await beDeleted(b);
    await refused(
      [a],
      () => a.messages.sendMessage({ recipients: [b.address], content: draft.content }),
      CODE.messagesPeerIsDeleted,
      b.address,
    );
    expect(await requestOf(a, draft.id)).toStrictEqual(draft);
  });
});

// ---------------------------------------------------------------------------------------------------------

function decide(runtime: Runtime, decision: "accept" | "reject", requestId: string) {
  return decision === "accept"
    ? runtime.requests.acceptIncomingRequest({ requestId })
    : runtime.requests.rejectIncomingRequest({ requestId });
}

function checkDecision(runtime: Runtime, decision: "canAccept" | "canReject", requestId: string) {
  return decision === "canAccept"
    ? runtime.requests.canAcceptIncomingRequest({ requestId })
    : runtime.requests.canRejectIncomingRequest({ requestId });
}

/**
 * Asserts that all four decision calls on `runtime` for `requestId` fail with `code` (the checks as Ok with
 * isSuccess false and the same message), each changing nothing on `runtimes`.
 */
async function decisionsFail(
  runtimes: Runtime[],
  runtime: Runtime,
  requestId: string,
  code: string,
  mention: string,
): Promise<void> {
  const messages: (string | undefined)[] = [];
  for (const decision of ["accept", "reject"] as const) {
    const error = err(await changesNothing(runtimes, () => decide(runtime, decision, requestId)));
    expect([decision, error.code]).toStrictEqual([decision, code]);
    messages.push(error.message);
  }
  for (const decision of ["canAccept", "canReject"] as const) {
    const check = ok(await changesNothing(runtimes, () => checkDecision(runtime, decision, requestId)));
    expect([decision, check]).toStrictEqual([decision, { isSuccess: false, code, message: check.message }]);
    messages.push(check.message);
  }
  expect(messages[0]).toContain(mention);
  expect(new Set(messages).size).toBe(1);
}

describe("accepting and rejecting: behaviour §7 rules, then the request's own status", () => {
  /** `a` sent a request to `b` over an Active relationship; `b` decides. */
  async function sentToB() {
    const { a, b, relationshipId } = await w.connected();
    const draft = await sendRequest(a, b);
    return { a, b, relationshipId, draft };
  }

  test("the requesting peer is in deletion → peerIsInDeletion", async () => {
    const { a, b, draft } = await sentToB();
    await enterDeletion(a);
    await decisionsFail([a, b], b, draft.id, CODE.requestsPeerIsInDeletion, a.address);
    expect((await requestOf(b, draft.id)).status).toBe("ManualDecisionRequired");
  });

  test("the requesting peer is deleted → peerIsDeleted", async () => {
    const { a, b, draft } = await sentToB();
    await beDeleted(a);
    await decisionsFail([b], b, draft.id, CODE.requestsPeerIsDeleted, a.address);
  });

  test("the relationship is Terminated → wrongRelationshipStatus (either side terminated it)", async () => {
    const { a, b, relationshipId, draft } = await sentToB();
    ok(await b.relationships.terminateRelationship({ relationshipId }));
    await decisionsFail([a, b], b, draft.id, CODE.requestsWrongRelationshipStatus, a.address);
    expect(err(await b.requests.createOutgoingRequest({ peer: a.address, content: {} })).code).toBe(
      CODE.requestsWrongRelationshipStatus,
    );
  });

  test("the relationship is DeletionProposed (the requester decomposed) → wrongRelationshipStatus", async () => {
    const { a, b, relationshipId, draft } = await sentToB();
    ok(await a.relationships.terminateRelationship({ relationshipId }));
    ok(await a.relationships.decomposeRelationship({ relationshipId }));
    expect(ok(await b.relationships.getRelationship({ id: relationshipId })).status).toBe("DeletionProposed");
    await decisionsFail([a, b], b, draft.id, CODE.requestsWrongRelationshipStatus, a.address);
  });

  test("Terminated and the peer in deletion → peerIsInDeletion wins", async () => {
    const { a, b, relationshipId, draft } = await sentToB();
    ok(await a.relationships.terminateRelationship({ relationshipId }));
    await enterDeletion(a);
    await decisionsFail([a, b], b, draft.id, CODE.requestsPeerIsInDeletion, a.address);
  });

  test.each(["accept", "reject"] as const)(
    "the request was already decided (%s) → wrongRequestStatus, the first response stays",
    async (first) => {
      const { a, b, draft } = await sentToB();
      ok(await decide(b, first, draft.id));
      const decided = await requestOf(b, draft.id);
      await decisionsFail([a, b], b, draft.id, CODE.requestsWrongRequestStatus, draft.id);
      expect(await requestOf(b, draft.id)).toStrictEqual(decided);
    },
  );

  test("already decided and the peer in deletion → peerIsInDeletion wins over the request status", async () => {
    const { a, b, draft } = await sentToB();
    ok(await b.requests.acceptIncomingRequest({ requestId: draft.id }));
    await enterDeletion(a);
    await decisionsFail([a, b], b, draft.id, CODE.requestsPeerIsInDeletion, a.address);
  });

  test("already decided and the relationship Terminated → wrongRelationshipStatus wins", async () => {
    const { a, b, relationshipId, draft } = await sentToB();
    ok(await b.requests.acceptIncomingRequest({ requestId: draft.id }));
    ok(await a.relationships.terminateRelationship({ relationshipId }));
    await decisionsFail([a, b], b, draft.id, CODE.requestsWrongRelationshipStatus, a.address);
  });

  test("an unknown request id → recordNotFound naming it", async () => {
    const { a, b } = await sentToB();
    await decisionsFail([a, b], b, UNKNOWN_REQUEST, CODE.recordNotFound, UNKNOWN_REQUEST);
  });

  test("the id of an own (outgoing) request → recordNotFound, whatever its status", async () => {
    const { a, b, draft } = await sentToB();
    // On the creator's side the sent request is its own (Open).
    await decisionsFail([a, b], a, draft.id, CODE.recordNotFound, draft.id);
    // A Draft of b's own is not decidable by b either.
    const own = await createDraft(b, a);
    await decisionsFail([a, b], b, own.id, CODE.recordNotFound, own.id);
    // Nor once completed.
    ok(await b.requests.acceptIncomingRequest({ requestId: draft.id }));
    await decisionsFail([a, b], a, draft.id, CODE.recordNotFound, draft.id);
  });

  test("once the peer has cancelled its deletion, accepting works again and completes both sides", async () => {
    const { a, b, draft } = await sentToB();
    await enterDeletion(a);
    expect(err(await b.requests.acceptIncomingRequest({ requestId: draft.id })).code).toBe(
      CODE.requestsPeerIsInDeletion,
    );
    ok(await a.identityDeletion.cancelIdentityDeletionProcess());
    expect(ok(await b.requests.canAcceptIncomingRequest({ requestId: draft.id }))).toStrictEqual({
      isSuccess: true,
    });
    const aEvents = watch(a);
    ok(await b.requests.acceptIncomingRequest({ requestId: draft.id }));
    expect((await requestOf(b, draft.id)).status).toBe("Completed");
    expect(await requestOf(a, draft.id)).toMatchObject({
      status: "Completed",
      response: { result: "Accepted" },
    });
    expect(aEvents.names()).toContain("consumption.outgoingRequestStatusChanged");
  });
});

describe("validation (behaviour §3)", () => {
  test.each<[string, unknown, string]>([
    ["peer malformed", { peer: "did:e:localhost:dids:xyz", content: {} }, "peer"],
    ["peer with a trailing suffix", { peer: `${UNKNOWN_ADDRESS}x`, content: {} }, "peer"],
    ["peer missing", { content: {} }, "peer"],
    ["peer not a string", { peer: 1, content: {} }, "peer"],
    ["content missing", { peer: UNKNOWN_ADDRESS }, "content"],
    ["content an array", { peer: UNKNOWN_ADDRESS, content: [] }, "content"],
    ["content a string", { peer: UNKNOWN_ADDRESS, content: "hello" }, "content"],
    ["content null", { peer: UNKNOWN_ADDRESS, content: null }, "content"],
    ["content a number", { peer: UNKNOWN_ADDRESS, content: 1 }, "content"],
    ["content a Date", { peer: UNKNOWN_ADDRESS, content: new Date(0) }, "content"],
    ["content with a function", { peer: UNKNOWN_ADDRESS, content: { f: () => 1 } }, "content.f"],
    ["content with NaN", { peer: UNKNOWN_ADDRESS, content: { n: Number.NaN } }, "content.n"],
    ["content with undefined", { peer: UNKNOWN_ADDRESS, content: { u: undefined } }, "content.u"],
    ["content with a Map", { peer: UNKNOWN_ADDRESS, content: { m: new Map() } }, "content.m"],
    ["content with a BigInt", { peer: UNKNOWN_ADDRESS, content: { b: BigInt(1) } }, "content.b"],
    ["unknown property", { peer: UNKNOWN_ADDRESS, content: {}, extra: 1 }, "extra"],
    ["request not an object", "peer", "request"],
    ["request missing", undefined, "request"],
  ])("createOutgoingRequest / canCreateOutgoingRequest: %s", async (_name, request, property) => {
    const { a, b } = await w.connected();
    // Use the real peer where the request names UNKNOWN_ADDRESS, so only the named property is at fault.
    const fixed =
      typeof request === "object" &&
      request !== null &&
      (request as { peer?: unknown }).peer === UNKNOWN_ADDRESS
        ? { ...request, peer: b.address }
        : request;
    for (const call of [
      () => a.requests.createOutgoingRequest(fixed as never),
      () => a.requests.canCreateOutgoingRequest(fixed as never),
    ]) {
      await refused([a, b], call, CODE.invalidPropertyValue, property);
    }
  });

  test("content with a cycle is invalid", async () => {
    const { a, b } = await w.connected();
    const content: Record<string, unknown> = {};
    content["self"] = content;
    await refused(
      [a, b],
      () => a.requests.createOutgoingRequest({ peer: b.address, content }),
      CODE.invalidPropertyValue,
      "content",
    );
  });

  test.each<[string, unknown, string]>([
    ["requestId malformed", { requestId: "REQ123" }, "requestId"],
    ["requestId of another prefix", { requestId: "MSGAAAAAAAAAAAAAAAAA" }, "requestId"],
    ["requestId with a suffix", { requestId: `${UNKNOWN_REQUEST}x` }, "requestId"],
    ["requestId not a string", { requestId: 7 }, "requestId"],
    ["requestId missing", {}, "requestId"],
    ["unknown property", { requestId: UNKNOWN_REQUEST, result: "Accepted" }, "result"],
    ["request missing", undefined, "request"],
  ])("accept / reject / canAccept / canReject: %s", async (_name, request, property) => {
    const { a, b } = await w.connected();
    await sendRequest(a, b);
    for (const call of [
      () => b.requests.acceptIncomingRequest(request as never),
      () => b.requests.rejectIncomingRequest(request as never),
      () => b.requests.canAcceptIncomingRequest(request as never),
      () => b.requests.canRejectIncomingRequest(request as never),
    ]) {
      await refused([a, b], call, CODE.invalidPropertyValue, property);
    }
  });

  test("a valid request for a runtime without any relationship is not a validation error", async () => {
    const rt = await w.runtime();
    expect(err(await rt.requests.createOutgoingRequest({ peer: UNKNOWN_ADDRESS, content: {} })).code).toBe(
      CODE.requestsMissingRelationship,
    );
  });
});

describe("the deleted identity's own runtime (behaviour §6)", () => {
  test("createOutgoingRequest, acceptIncomingRequest and rejectIncomingRequest → identityDeleted, changing nothing", async () => {
    const { a, b } = await w.connected();
    const fromB1 = await sendRequest(b, a);
    const fromB2 = await sendRequest(b, a);
    await beDeleted(a);
    await refused(
      [a, b],
      () => a.requests.createOutgoingRequest({ peer: b.address, content: {} }),
      CODE.identityDeleted,
      a.address,
    );
    await refused(
      [a, b],
      () => a.requests.acceptIncomingRequest({ requestId: fromB1.id }),
      CODE.identityDeleted,
      a.address,
    );
    await refused(
      [a, b],
      () => a.requests.rejectIncomingRequest({ requestId: fromB2.id }),
      CODE.identityDeleted,
      a.address,
    );
    // Reads keep working.
    expect(ok(await a.requests.getIncomingRequests()).map((r) => r.status)).toStrictEqual([
      "ManualDecisionRequired",
      "ManualDecisionRequired",
    ]);
    expect((await requestOf(b, fromB1.id)).status).toBe("Open");
  });

  test("its can… checks do not promise what the action would refuse", async () => {
    const { a, b } = await w.connected();
    const fromB = await sendRequest(b, a);
    await beDeleted(a);
    const create = ok(await a.requests.canCreateOutgoingRequest({ peer: b.address, content: {} }));
    const accept = ok(await a.requests.canAcceptIncomingRequest({ requestId: fromB.id }));
    const reject = ok(await a.requests.canRejectIncomingRequest({ requestId: fromB.id }));
    for (const check of [create, accept, reject]) {
      expect(check).toStrictEqual({
        isSuccess: false,
        code: CODE.identityDeleted,
        message: check.message,
      });
      expect(check.message).toContain(a.address);
    }
  });
});

describe("decomposition (behaviour §7)", () => {
  test("removes the decomposer's requests with that peer only; the peer keeps its requests", async () => {
    const a = await w.runtime();
    const connect = async (peer: Runtime) => {
      const template = ok(await a.relationships.createOwnRelationshipTemplate());
      const relationship = ok(await peer.relationships.createRelationship({ templateId: template.id }));
      ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
      return relationship.id;
    };
    const b = await w.runtime();
    const c = await w.runtime();
    const withB = await connect(b);
    await connect(c);

    const toB = await sendRequest(a, b);
    const fromB = await sendRequest(b, a);
    const draftToB = await createDraft(a, b);
    const toC = await sendRequest(a, c);
    const fromC = await sendRequest(c, a);
    ok(await a.requests.acceptIncomingRequest({ requestId: fromB.id }));
    const bBefore = await snapshot(b);
    const cBefore = await snapshot(c);

    ok(await a.relationships.terminateRelationship({ relationshipId: withB }));
    ok(await a.relationships.decomposeRelationship({ relationshipId: withB }));

    expect(ok(await a.requests.getOutgoingRequests()).map((r) => r.id)).toStrictEqual([toC.id]);
    expect(ok(await a.requests.getIncomingRequests()).map((r) => r.id)).toStrictEqual([fromC.id]);
    for (const id of [toB.id, fromB.id, draftToB.id]) {
      expect(err(await a.requests.getRequest({ id })).code).toBe(CODE.recordNotFound);
    }
    // The peer's side is DeletionProposed and keeps its requests; the third party is untouched.
    expect((await snapshot(b)).outgoing).toStrictEqual(bBefore.outgoing);
    expect((await snapshot(b)).incoming).toStrictEqual(bBefore.incoming);
    expect(await snapshot(c)).toStrictEqual(cBefore);
    // Afterwards there is no relationship to the peer any more.
    expect(err(await a.requests.createOutgoingRequest({ peer: b.address, content: {} })).code).toBe(
      CODE.requestsMissingRelationship,
    );
  });

  test("decomposing a relationship with a deleted peer removes the requests with it", async () => {
    const { a, b, relationshipId } = await w.connected();
    const toB = await sendRequest(a, b);
    await beDeleted(b);
    ok(await a.relationships.decomposeRelationship({ relationshipId }));
    expect(ok(await a.requests.getOutgoingRequests())).toStrictEqual([]);
    expect(err(await a.requests.getRequest({ id: toB.id })).code).toBe(CODE.recordNotFound);
  });
});

describe("requests carried by messages", () => {
  test("a user-crafted Request content without a Draft creates an incoming request on the recipient only", async () => {
    const { a, b } = await w.connected();
    const id = "REQabcdefghijklmnopq";
    const content = { "@type": "Request", id, note: "hand-made" };
    const bEvents = watch(b);
    const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content }));
    expect(await requestOf(b, id)).toStrictEqual({
      id,
      isOwn: false,
      peer: a.address,
      status: "ManualDecisionRequired",
      createdAt: sent.createdAt,
      content,
    });
    expect(bEvents.names()).toStrictEqual([
      "transport.messageReceived",
      "consumption.incomingRequestReceived",
    ]);
    // The sender has no request for it.
    expect(ok(await a.requests.getOutgoingRequests())).toStrictEqual([]);
    expect(err(await a.requests.getRequest({ id })).code).toBe(CODE.recordNotFound);
    // It can be decided like any other; the response goes back but completes nothing on the sender.
    ok(await b.requests.acceptIncomingRequest({ requestId: id }));
    expect((await requestOf(b, id)).status).toBe("Completed");
    expect(ok(await a.requests.getOutgoingRequests())).toStrictEqual([]);
  });

  test("content whose id is no request id, or whose @type is not Request, creates no request", async () => {
    const { a, b } = await w.connected();
    const contents: JsonValue[] = [
      { "@type": "Request", id: "REQ123" },
      { "@type": "Request" },
      { "@type": "request", id: "REQabcdefghijklmnopq" },
      { "@type": "Mail", id: "REQabcdefghijklmnopq" },
      ["@type", "Request"],
    ];
    for (const content of contents) {
      ok(await a.messages.sendMessage({ recipients: [b.address], content }));
    }
    expect(ok(await b.requests.getIncomingRequests())).toStrictEqual([]);
    expect(ok(await b.messages.getMessages())).toHaveLength(5);
  });

  test("a duplicate delivery of the same request id creates no second request and does not reset a decided one", async () => {
    const { a, b } = await w.connected();
    const draft = await sendRequest(a, b);
    const bEvents = watch(b);
    const aEvents = watch(a);
    ok(await a.messages.sendMessage({ recipients: [b.address], content: draft.content }));
    expect(ok(await b.requests.getIncomingRequests())).toHaveLength(1);
    expect(bEvents.names()).toStrictEqual(["transport.messageReceived"]);
    // The own request stays Open (no second status change).
    expect(aEvents.names()).toStrictEqual([]);
    expect((await requestOf(a, draft.id)).status).toBe("Open");

    ok(await b.requests.rejectIncomingRequest({ requestId: draft.id }));
    const decided = await requestOf(b, draft.id);
    ok(await a.messages.sendMessage({ recipients: [b.address], content: draft.content }));
    expect(ok(await b.requests.getIncomingRequests())).toStrictEqual([decided]);
    expect((await requestOf(a, draft.id)).status).toBe("Completed");

    // A hand-made duplicate is ignored too.
    const crafted = { "@type": "Request", id: "REQzyxwvutsrqponmlkj" };
    ok(await a.messages.sendMessage({ recipients: [b.address], content: crafted }));
    ok(await a.messages.sendMessage({ recipients: [b.address], content: { ...crafted, other: 1 } }));
    expect((await requestOf(b, crafted.id)).content).toStrictEqual(crafted);
    expect(ok(await b.requests.getIncomingRequests())).toHaveLength(2);
  });

  test("a peer cannot overwrite the recipient's own request by sending a Request with its id", async () => {
    const { a, b } = await w.connected();
    const own = await createDraft(b, a);
    ok(
      await a.messages.sendMessage({ recipients: [b.address], content: { "@type": "Request", id: own.id } }),
    );
    expect(await requestOf(b, own.id)).toStrictEqual(own);
    expect(ok(await b.requests.getIncomingRequests())).toStrictEqual([]);
  });

  test("a Response from another peer than the request's peer does not complete it", async () => {
    const { a, b } = await w.connected();
    const c = await w.runtime();
    const template = ok(await c.relationships.createOwnRelationshipTemplate());
    const relationship = ok(await a.relationships.createRelationship({ templateId: template.id }));
    ok(await c.relationships.acceptRelationship({ relationshipId: relationship.id }));

    const draft = await sendRequest(a, b);
    const aEvents = watch(a);
    ok(
      await c.messages.sendMessage({
        recipients: [a.address],
        content: { "@type": "Response", requestId: draft.id, result: "Accepted" },
      }),
    );
    expect((await requestOf(a, draft.id)).status).toBe("Open");
    expect(aEvents.names()).toStrictEqual(["transport.messageReceived"]);

    // The real peer's decision still completes it.
    ok(await b.requests.rejectIncomingRequest({ requestId: draft.id }));
    expect((await requestOf(a, draft.id)).response?.result).toBe("Rejected");
  });

  test("a Response with an unknown result or without a result completes nothing", async () => {
    const { a, b } = await w.connected();
    const open = await sendRequest(a, b);
    const contents: JsonValue[] = [
      { "@type": "Response", requestId: open.id, result: "Maybe" },
      { "@type": "Response", requestId: open.id },
    ];
    for (const content of contents) {
      ok(await b.messages.sendMessage({ recipients: [a.address], content }));
    }
    expect((await requestOf(a, open.id)).status).toBe("Open");
  });

  test("a Response from the request's peer that overtakes the sender's bookkeeping still completes it", async () => {
    // The peer can only know a Draft's id from the message that sends it; when its Response arrives before
    // the sender has recorded the send (a slow storage), the request must still end Completed.
    const { a, b } = await w.connected();
    const draft = await createDraft(a, b);
    const response = { "@type": "Response", requestId: draft.id, result: "Accepted" };
    ok(await b.messages.sendMessage({ recipients: [a.address], content: response }));
    const completed = await requestOf(a, draft.id);
    expect(completed.status).toBe("Completed");
    expect(completed.response?.result).toBe("Accepted");
  });
});
