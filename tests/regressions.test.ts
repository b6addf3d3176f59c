// Regression tests of defects found in reviews, by capability: each test fails when its fix is reverted.
import { Err, createRuntime, LocalBackbone, lokiStorage, RuntimeError } from "../src/index";
import type {
  Backbone,
  BackboneInbox,
  LocalRequestDTO,
  RelationshipDTO,
  Result,
  Runtime,
  RuntimeEvent,
  StorageAdapter,
  StorageChange,
} from "../src/index";
import {
  CODE,
  delegating,
  world,
  err,
  ok,
  recordEvents,
  sleep,
  slowStorage,
  testStorage,
  UNKNOWN_ADDRESS,
  worldPerTest,
} from "./support";

const w = worldPerTest();

/** A relationship from `b` to `a`'s template, accepted by `a` unless `pending`. */
async function relate(a: Runtime, b: Runtime, pending = false): Promise<string> {
  const template = ok(await a.relationships.createOwnRelationshipTemplate());
  const relationship = ok(await b.relationships.createRelationship({ templateId: template.id }));
  if (!pending) ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
  return relationship.id;
}

/** Polls `condition` every few milliseconds until it holds or `timeoutMs` passed; whether it held. */
async function eventually(condition: () => Promise<boolean>, timeoutMs = 1_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
}

async function requestOf(runtime: Runtime, id: string): Promise<LocalRequestDTO> {
  return ok(await runtime.requests.getRequest({ id }));
}

describe("runtime: identities in a shared storage, start-up, facades and event data", () => {
  describe("runtimes sharing one storage are distinct identities", () => {
    test("two runtimes on one storage have different addresses and do not see each other's metadata", async () => {
      const storage = lokiStorage();
      const first = await w.runtime({ storage });
      const second = await w.runtime({ storage });
      expect(second.address).not.toBe(first.address);

      ok(await first.identityMetadata.upsertIdentityMetadata({ reference: first.address, value: "first" }));
      ok(
        await second.identityMetadata.upsertIdentityMetadata({ reference: second.address, value: "second" }),
      );
      expect(err(await second.identityMetadata.getIdentityMetadata({ reference: first.address })).code).toBe(
        CODE.identityMetadataNotFound,
      );
      expect(err(await first.identityMetadata.getIdentityMetadata({ reference: second.address })).code).toBe(
        CODE.identityMetadataNotFound,
      );
      // A runtime's own address is familiar, a runtime sharing the storage is not.
      expect(
        err(await second.identityMetadata.upsertIdentityMetadata({ reference: first.address, value: 1 }))
          .code,
      ).toBe(CODE.unfamiliarReferencedIdentity);
    });

    test("without an address, createRuntime reopens the identity nobody has open, with its data", async () => {
      const storage = lokiStorage();
      const first = await w.runtime({ storage });
      const second = await w.runtime({ storage });
      ok(await first.identityMetadata.upsertIdentityMetadata({ reference: first.address, value: "first" }));
      await first.close();

      const reopened = await w.runtime({ storage });
      expect(reopened.address).toBe(first.address);
      expect(reopened.address).not.toBe(second.address);
      expect(
        ok(await reopened.identityMetadata.getIdentityMetadata({ reference: first.address })).value,
      ).toBe("first");
    });

    test("with an address, createRuntime reopens that identity", async () => {
      const storage = lokiStorage();
      const first = await w.runtime({ storage });
      const second = await w.runtime({ storage });
      ok(
        await second.identityMetadata.upsertIdentityMetadata({ reference: second.address, value: "second" }),
      );
      await first.close();
      await second.close();

      // Without the address the first identity would come back; the chosen one does.
      const chosen = await w.runtime({ storage, address: second.address });
      expect(chosen.address).toBe(second.address);
      expect(ok(await chosen.identityMetadata.getIdentityMetadata({ reference: second.address })).value).toBe(
        "second",
      );
    });

    test("an address the storage does not hold, or one open already, makes createRuntime reject with a RangeError", async () => {
      const storage = lokiStorage();
      const first = await w.runtime({ storage });
      await expect(
        createRuntime({ backbone: w.backbone, storage, address: UNKNOWN_ADDRESS }),
      ).rejects.toThrow(RangeError);
      await expect(createRuntime({ backbone: w.backbone, storage, address: first.address })).rejects.toThrow(
        RangeError,
      );
      // The refusals changed nothing: the identity is still the one open runtime's.
      ok(await first.identityMetadata.upsertIdentityMetadata({ reference: first.address, value: 1 }));
    });

    test("eraseLocalData of a deleted identity leaves the other identity of the storage intact", async () => {
      const storage = lokiStorage();
      const doomed = await w.runtime({ storage });
      const survivor = await w.runtime({ storage });
      await relate(doomed, survivor);
      ok(
        await survivor.identityMetadata.upsertIdentityMetadata({
          reference: survivor.address,
          value: "kept",
        }),
      );
      ok(
        await survivor.identityMetadata.upsertIdentityMetadata({
          reference: doomed.address,
          key: "peer",
          value: "about the doomed",
        }),
      );
      ok(await doomed.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 0 }));
      w.clock.advance({ ms: 1 });
      await w.backbone.runDueJobs();
      expect(ok(await doomed.identityDeletion.checkIfIdentityIsDeleted()).isDeleted).toBe(true);
      ok(await doomed.eraseLocalData());

      expect(
        ok(await survivor.identityMetadata.getIdentityMetadata({ reference: survivor.address })).value,
      ).toBe("kept");
      expect(
        ok(await survivor.identityMetadata.getIdentityMetadata({ reference: doomed.address, key: "peer" }))
          .value,
      ).toBe("about the doomed");
      expect(ok(await survivor.relationships.getRelationships())).toHaveLength(1);

      // The erased identity is gone from the storage; the survivor can still be reopened from it.
      await expect(createRuntime({ backbone: w.backbone, storage, address: doomed.address })).rejects.toThrow(
        RangeError,
      );
      await survivor.close();
      const reopened = await w.runtime({ storage, address: survivor.address });
      expect(
        ok(await reopened.identityMetadata.getIdentityMetadata({ reference: survivor.address })).value,
      ).toBe("kept");
    });
  });

  describe("a failing createRuntime leaks nothing", () => {
    test("an identity whose runtime failed to start is reopened by the next createRuntime", async () => {
      const storage: StorageAdapter = lokiStorage();
      const created: string[] = [];
      const failing = new Proxy(w.backbone, {
        get(target, key) {
          if (key === "getIdentityDeletionProcesses") {
            return () =>
              Promise.resolve(new Err(new RuntimeError("error.runtime.unknown", "the Backbone is down")));
          }
          if (key === "createIdentity") {
            return async () => {
              const address = await target.createIdentity();
              created.push(address);
              return address;
            };
          }
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === "function"
            ? (value as (...args: unknown[]) => unknown).bind(target)
            : value;
        },
      }) as Backbone;

      await expect(createRuntime({ backbone: failing, storage })).rejects.toThrow();
      expect(created).toHaveLength(1);

      const runtime = await w.runtime({ storage });
      expect(runtime.address).toBe(created[0]);
      ok(
        await runtime.identityMetadata.upsertIdentityMetadata({ reference: runtime.address, value: "works" }),
      );
    });
  });

  describe("facade methods work detached", () => {
    test("one method of every facade, destructured, still works", async () => {
      const rt = await w.runtime();
      const { upsertIdentityMetadata } = rt.identityMetadata;
      const { createOwnRelationshipTemplate } = rt.relationships;
      const { getMessages } = rt.messages;
      const { getOutgoingRequests } = rt.requests;
      const { getIdentityDeletionProcesses } = rt.identityDeletion;

      expect(ok(await upsertIdentityMetadata({ reference: rt.address, value: 1 })).value).toBe(1);
      expect(ok(await createOwnRelationshipTemplate()).createdBy).toBe(rt.address);
      expect(ok(await getMessages())).toStrictEqual([]);
      expect(ok(await getOutgoingRequests())).toStrictEqual([]);
      expect(ok(await getIdentityDeletionProcesses())).toStrictEqual([]);
    });
  });

  describe("event data is a copy", () => {
    test("mutating relationshipChanged data changes neither the call's result nor the stored relationship", async () => {
      const a = await w.runtime();
      const b = await w.runtime();
      for (const rt of [a, b]) {
        rt.events.on("transport.relationshipChanged", (event) => {
          (event.data as { status: string }).status = "Hacked";
          event.data.auditLog.length = 0;
        });
      }
      const relationshipId = await relate(a, b, true);
      const accepted = ok(await a.relationships.acceptRelationship({ relationshipId }));
      expect(accepted.status).toBe("Active");
      expect(accepted.auditLog).toHaveLength(2);
      for (const rt of [a, b]) {
        const stored = ok(await rt.relationships.getRelationship({ id: relationshipId }));
        expect(stored.status).toBe("Active");
        expect(stored.auditLog).toHaveLength(2);
      }
      const terminated = ok(await b.relationships.terminateRelationship({ relationshipId }));
      expect(terminated.status).toBe("Terminated");
    });

    test("mutating request event data changes neither the call's result, the stored requests nor the message", async () => {
      const { a, b } = await w.connected();
      a.events.on("consumption.outgoingRequestStatusChanged", (event) => {
        (event.data as { status: string }).status = "Hacked";
      });
      b.events.on("consumption.incomingRequestReceived", (event) => {
        (event.data.content as Record<string, unknown>)["hacked"] = true;
      });
      b.events.on("consumption.incomingRequestStatusChanged", (event) => {
        (event.data as { status: string }).status = "Hacked";
      });
      const received: RuntimeEvent<"transport.messageReceived">[] = recordEvents(
        b,
        "transport.messageReceived",
      );

      const draft = ok(await a.requests.createOutgoingRequest({ peer: b.address, content: { q: "?" } }));
      ok(await a.messages.sendMessage({ recipients: [b.address], content: draft.content }));
      expect((await requestOf(a, draft.id)).status).toBe("Open");
      expect(received[0]?.data.content).toStrictEqual(draft.content);
      expect(ok(await b.messages.getMessages())[0]?.content).toStrictEqual(draft.content);
      expect((await requestOf(b, draft.id)).content).toStrictEqual(draft.content);

      const accepted = ok(await b.requests.acceptIncomingRequest({ requestId: draft.id }));
      expect(accepted.status).toBe("Completed");
      expect((await requestOf(b, draft.id)).status).toBe("Completed");
      expect((await requestOf(a, draft.id)).status).toBe("Completed");
    });

    test("the result of sendMessage and the recipient's copy do not alias the caller's content", async () => {
      const { a, b } = await w.connected();
      const content = { "@type": "Mail", body: { text: "hi" }, list: [1] };
      const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content }));
      content.body.text = "changed";
      content.list.push(2);

      const original = { "@type": "Mail", body: { text: "hi" }, list: [1] };
      expect(sent.content).toStrictEqual(original);
      expect(ok(await a.messages.getMessages())[0]?.content).toStrictEqual(original);
      expect(ok(await b.messages.getMessages())[0]?.content).toStrictEqual(original);
    });
  });
});

describe("identity metadata", () => {
  describe("an upsert about a peer never outlives that peer's decomposition", () => {
    test("12 upserts racing decomposeRelationship leave no metadata about the peer", async () => {
      // The familiarity check (and the decomposition's last read) are slow, writes are not: a decomposition that
      // commits while an upsert waits for its check lands between that check and its write, unless they take turns.
      const a = await w.runtime({
        storage: slowStorage(lokiStorage(), (method) => (method === "listByPeer" ? 6 : 0)),
      });
      const b = await w.runtime();
      const relationshipId = await relate(a, b);
      ok(await a.relationships.terminateRelationship({ relationshipId }));

      const keys = Array.from({ length: 12 }, (_, index) => `k${index}`);
      const upserts = keys.map(async (key, index) => {
        // Spread over the decomposition's storage round trips, so some checks land right before its commit.
        await sleep(index % 6);
        return a.identityMetadata.upsertIdentityMetadata({ reference: b.address, key, value: index });
      });
      const decomposed = a.relationships.decomposeRelationship({ relationshipId });
      const results = await Promise.all(upserts);
      ok(await decomposed);

      for (const result of results) {
        if (result.err) expect(result.val.code).toBe(CODE.unfamiliarReferencedIdentity);
      }
      const left: string[] = [];
      for (const key of keys) {
        const found = await a.identityMetadata.getIdentityMetadata({ reference: b.address, key });
        if (found.ok) left.push(key);
        else expect(found.val.code).toBe(CODE.identityMetadataNotFound);
      }
      expect(left).toStrictEqual([]);
    });
  });
});

describe("relationships and peers in deletion", () => {
  describe("a peer past its deletion date counts as deleted before the due job ran", () => {
    test("message and request rules follow the clock; at exactly gracePeriodEndsAt the peer is still in deletion", async () => {
      const { a, b } = await w.connected();
      const process = ok(await b.identityDeletion.initiateIdentityDeletionProcess());
      const gracePeriodEndsAt = new Date(process.gracePeriodEndsAt as string);

      w.clock.set(gracePeriodEndsAt);
      expect(
        err(await a.messages.sendMessage({ recipients: [b.address], content: { "@type": "Mail" } })).code,
      ).toBe("error.runtime.messages.peerIsInDeletion");
      expect(ok(await a.requests.canCreateOutgoingRequest({ peer: b.address, content: {} })).code).toBe(
        "error.consumption.requests.peerIsInDeletion",
      );

      w.clock.advance({ ms: 1 });
      // No runDueJobs: the relationship still says ToBeDeleted, the clock says deleted.
      const relationship = ok(await a.relationships.getRelationships({ peer: b.address }))[0];
      expect(relationship?.peerDeletionInfo?.deletionStatus).toBe("ToBeDeleted");
      expect(
        err(await a.messages.sendMessage({ recipients: [b.address], content: { "@type": "Mail" } })).code,
      ).toBe("error.transport.messages.peerIsDeleted");
      expect(
        err(await a.messages.sendMessage({ recipients: [b.address], content: { "@type": "Notification" } }))
          .code,
      ).toBe("error.transport.messages.peerIsDeleted");
      expect(err(await a.requests.createOutgoingRequest({ peer: b.address, content: {} })).code).toBe(
        "error.consumption.requests.peerIsDeleted",
      );
      const check = ok(await a.requests.canCreateOutgoingRequest({ peer: b.address, content: {} }));
      expect(check).toMatchObject({ isSuccess: false, code: "error.consumption.requests.peerIsDeleted" });
    });
  });

  describe("a relationship created by an identity already in deletion", () => {
    test("the template's creator learns of the deletion from the start", async () => {
      const a = await w.runtime();
      const c = await w.runtime();
      const process = ok(await c.identityDeletion.initiateIdentityDeletionProcess());
      const template = ok(await a.relationships.createOwnRelationshipTemplate());
      const created = ok(await c.relationships.createRelationship({ templateId: template.id }));

      const seenByA = ok(await a.relationships.getRelationship({ id: created.id }));
      expect(seenByA.peerDeletionInfo).toStrictEqual({
        deletionStatus: "ToBeDeleted",
        deletionDate: process.gracePeriodEndsAt,
      });
      expect(seenByA.status).toBe("Pending");

      ok(await a.relationships.acceptRelationship({ relationshipId: created.id }));
      const check = ok(await a.requests.canCreateOutgoingRequest({ peer: c.address, content: {} }));
      expect(check.isSuccess).toBe(false);
      expect(check.code).toBe("error.consumption.requests.peerIsInDeletion");
      expect(
        err(await a.messages.sendMessage({ recipients: [c.address], content: { "@type": "Mail" } })).code,
      ).toBe("error.runtime.messages.peerIsInDeletion");
    });
  });

  describe("transport.peerDeletionCancelledEvent", () => {
    test("is published with the same RelationshipDTO alongside transport.peerDeletionCancelled", async () => {
      const { a, b, relationshipId } = await w.connected();
      const seen = recordEvents(a, "transport.peerDeletionCancelled", "transport.peerDeletionCancelledEvent");
      ok(await b.identityDeletion.initiateIdentityDeletionProcess());
      ok(await b.identityDeletion.cancelIdentityDeletionProcess());

      expect(seen.map((event) => event.name)).toStrictEqual([
        "transport.peerDeletionCancelled",
        "transport.peerDeletionCancelledEvent",
      ]);
      const stored: RelationshipDTO = ok(await a.relationships.getRelationship({ id: relationshipId }));
      expect(stored.peerDeletionInfo).toBeUndefined();
      for (const event of seen) {
        expect(event.eventTargetAddress).toBe(a.address);
        expect(event.data).toStrictEqual(stored);
      }
    });
  });
});

describe("requests", () => {
  describe("a Response that overtakes the sender's bookkeeping", () => {
    test("a peer accepting from inside incomingRequestReceived leaves both sides Completed with one response", async () => {
      // The peer's storage is faster than the creator's: its Response reaches the creator while the creator is
      // still recording that the request was sent.
      const a = await w.runtime({ storage: slowStorage(lokiStorage(), 8) });
      const b = await w.runtime({ storage: slowStorage(lokiStorage(), 1) });
      await relate(a, b);
      const decisions: Promise<Result<LocalRequestDTO, RuntimeError>>[] = [];
      b.events.on("consumption.incomingRequestReceived", (event) => {
        decisions.push(b.requests.acceptIncomingRequest({ requestId: event.data.id }));
      });

      const draft = ok(await a.requests.createOutgoingRequest({ peer: b.address, content: { q: "?" } }));
      ok(await a.messages.sendMessage({ recipients: [b.address], content: draft.content }));
      const completed = await eventually(async () => (await requestOf(a, draft.id)).status === "Completed");
      expect(decisions).toHaveLength(1);
      ok(await (decisions[0] as Promise<Result<LocalRequestDTO, RuntimeError>>));

      const outgoing = await requestOf(a, draft.id);
      const incoming = await requestOf(b, draft.id);
      expect({ completed, status: outgoing.status }).toStrictEqual({ completed: true, status: "Completed" });
      expect(incoming.status).toBe("Completed");
      expect(outgoing.response).toStrictEqual(incoming.response);
      expect(outgoing.response?.result).toBe("Accepted");
    });

    test("a Response that arrives while the sender is still recording its send completes the request", async () => {
      // The sender's storage is slow to record its own sent messages, so the peer's Response gets there first.
      const slowOwnSends = (method: string, args: readonly unknown[]): number => {
        if (method !== "commit") return 0;
        const changes = args[0] as readonly StorageChange[];
        const ownSent = changes.some(
          (change) =>
            change.kind === "put" &&
            change.collection.endsWith("/messages") &&
            (JSON.parse(change.record.data) as { createdBy?: string }).createdBy ===
              change.collection.slice(0, -"/messages".length),
        );
        return ownSent ? 30 : 0;
      };
      const a = await w.runtime({ storage: slowStorage(lokiStorage(), slowOwnSends) });
      const b = await w.runtime();
      await relate(a, b);
      const decisions: Promise<Result<LocalRequestDTO, RuntimeError>>[] = [];
      b.events.on("consumption.incomingRequestReceived", (event) => {
        decisions.push(b.requests.acceptIncomingRequest({ requestId: event.data.id }));
      });

      const draft = ok(await a.requests.createOutgoingRequest({ peer: b.address, content: { q: "?" } }));
      ok(await a.messages.sendMessage({ recipients: [b.address], content: draft.content }));
      expect(decisions).toHaveLength(1);
      const incoming = ok(await (decisions[0] as Promise<Result<LocalRequestDTO, RuntimeError>>));
      const outgoing = await requestOf(a, draft.id);
      expect(outgoing.status).toBe("Completed");
      expect(outgoing.response).toStrictEqual(incoming.response);
    });

    test("deciding one request twice at once: one success, one wrongRequestStatus", async () => {
      const a = await w.runtime({ storage: slowStorage(lokiStorage(), 2) });
      const b = await w.runtime({ storage: slowStorage(lokiStorage(), 2) });
      await relate(a, b);
      const draft = ok(await a.requests.createOutgoingRequest({ peer: b.address, content: { q: "?" } }));
      ok(await a.messages.sendMessage({ recipients: [b.address], content: draft.content }));

      const results = await Promise.all([
        b.requests.acceptIncomingRequest({ requestId: draft.id }),
        b.requests.rejectIncomingRequest({ requestId: draft.id }),
      ]);
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      const failures = results.filter((result) => result.err);
      expect(failures).toHaveLength(1);
      expect(err(failures[0] as (typeof results)[number]).code).toBe(
        "error.consumption.requests.wrongRequestStatus",
      );
      // Exactly one Response reached the creator.
      const responses = ok(await a.messages.getMessages()).filter(
        (message) => (message.content as { "@type"?: string })["@type"] === "Response",
      );
      expect(responses).toHaveLength(1);
    });
  });
});

describe("two processes serving one identity", () => {
  /** The Backbone, with the inbox each runtime connects kept: pushes as another process may hand them over. */
  function keepingInboxes(backbone: Backbone) {
    const inboxes = new Map<string, BackboneInbox>();
    const wrapped = new Proxy(backbone, {
      get(target, key) {
        if (key === "connect") {
          return (address: string, inbox: BackboneInbox) => {
            inboxes.set(address, inbox);
            return target.connect(address, inbox);
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { backbone: wrapped, inboxOf: (address: string) => inboxes.get(address) as BackboneInbox };
  }

  test("a relationship's push older than the state kept, or about one the identity decomposed, changes nothing and announces nothing", async () => {
    const { backbone, inboxOf } = keepingInboxes(w.backbone);
    const a = await w.runtime();
    const { storage, dispose } = testStorage();
    const b = await createRuntime({ backbone, storage });
    try {
      const relationshipId = await relate(a, b);
      const active = ok(await b.relationships.getRelationship({ id: relationshipId }));
      ok(await a.relationships.terminateRelationship({ relationshipId }));
      const changed = recordEvents(b, "transport.relationshipChanged");
      // Handed over late by a process that read it before the termination.
      await inboxOf(b.address).relationshipChanged(active);
      expect(ok(await b.relationships.getRelationship({ id: relationshipId })).status).toBe("Terminated");
      const terminated = ok(await b.relationships.getRelationship({ id: relationshipId }));
      ok(await b.relationships.decomposeRelationship({ relationshipId }));
      await inboxOf(b.address).relationshipChanged(terminated);
      expect(err(await b.relationships.getRelationship({ id: relationshipId })).code).toBe(
        CODE.recordNotFound,
      );
      expect(changed).toEqual([]);
    } finally {
      await b.close();
      await dispose();
    }
  });

  test("a deletion process's push older than the state kept changes nothing and announces nothing", async () => {
    const { backbone, inboxOf } = keepingInboxes(w.backbone);
    const { storage, dispose } = testStorage();
    const b = await createRuntime({ backbone, storage });
    try {
      const approved = ok(await b.identityDeletion.initiateIdentityDeletionProcess());
      ok(await b.identityDeletion.cancelIdentityDeletionProcess());
      const changed = recordEvents(b, "transport.identityDeletionProcessStatusChanged");
      await inboxOf(b.address).identityDeletionProcessChanged(approved);
      expect(ok(await b.identityDeletion.getIdentityDeletionProcess({ id: approved.id })).status).toBe(
        "Cancelled",
      );
      expect(ok(await b.identityDeletion.checkIfIdentityIsDeleted()).isDeleted).toBe(false);
      expect(changed).toEqual([]);
    } finally {
      await b.close();
      await dispose();
    }
  });
});

describe("the LocalBackbone", () => {
  test("a hand-over the Backbone's storage fails to list is tried again: the push arrives later", async () => {
    const failing = { peer: "" };
    // The Backbone's storage fails to list the outbox of `failing.peer` while it is set.
    const storage = delegating(lokiStorage(), (target) => ({
      listByPeer: (collection, peer) =>
        collection === "backbone/outbox" && peer === failing.peer
          ? Promise.reject(new Error("connection lost"))
          : target.listByPeer(collection, peer),
    }));
    const reported: unknown[] = [];
    const own = world({ backbone: { storage, onDeliveryError: (error) => reported.push(error) } });
    try {
      const a = await own.runtime();
      const b = await own.runtime();
      const relationshipId = await relate(a, b);
      // The hand-over after the commit and those its notification wakes all fail: only a retry is left.
      failing.peer = b.address;
      ok(await a.relationships.terminateRelationship({ relationshipId }));
      await sleep(100);
      failing.peer = "";
      expect(reported.length).toBeGreaterThanOrEqual(1);
      expect(ok(await b.relationships.getRelationship({ id: relationshipId })).status).toBe("Active");
      await sleep(1_500);
      expect(ok(await b.relationships.getRelationship({ id: relationshipId })).status).toBe("Terminated");
    } finally {
      await own.close();
    }
  });

  test("a push the runtime fails to apply stays in the outbox and is applied later, once", async () => {
    let failing = false;
    const inner = lokiStorage();
    // The runtime's storage refuses to write relationships while `failing`.
    const storage = delegating(inner, (target) => ({
      commit: (changes) =>
        failing &&
        changes.some((change) => change.kind === "put" && change.collection.endsWith("/relationships"))
          ? Promise.reject(new Error("disk full"))
          : target.commit(changes),
    }));
    const reported: unknown[] = [];
    const own = world({ backbone: { onDeliveryError: (error) => reported.push(error) } });
    try {
      const a = await own.runtime();
      const b = await own.runtime({ storage });
      const relationshipId = await relate(a, b);
      const changed = recordEvents(b, "transport.relationshipChanged");
      failing = true;
      ok(await a.relationships.terminateRelationship({ relationshipId }));
      // Reported at least once (on PostgreSQL the notification of the push may wake a second hand-over).
      expect(reported.length).toBeGreaterThanOrEqual(1);
      expect(ok(await b.relationships.getRelationship({ id: relationshipId })).status).toBe("Active");
      failing = false;
      // Handed over again on a timer (after 1 s), or with the next push to the runtime: here, the timer.
      await sleep(1_200);
      expect(ok(await b.relationships.getRelationship({ id: relationshipId })).status).toBe("Terminated");
      expect(changed.map((event) => event.data.status)).toStrictEqual(["Terminated"]);
    } finally {
      await own.close();
    }
  });

  describe("the Backbone keeps pushes for a runtime that is away", () => {
    test("a reopened runtime catches up on relationship changes and messages, in order", async () => {
      const storage = lokiStorage();
      const a = await w.runtime();
      const b = await w.runtime({ storage });
      const relationshipId = await relate(a, b);
      await b.close();

      const mail = ok(
        await a.messages.sendMessage({ recipients: [b.address], content: { "@type": "Mail" } }),
      );
      ok(await a.relationships.terminateRelationship({ relationshipId }));
      const notification = ok(
        await a.messages.sendMessage({ recipients: [b.address], content: { "@type": "Notification", n: 1 } }),
      );

      const reopened = await w.runtime({ storage });
      expect(reopened.address).toBe(b.address);
      const relationship = ok(await reopened.relationships.getRelationship({ id: relationshipId }));
      expect(relationship.status).toBe("Terminated");
      expect(relationship.auditLog.map((entry) => entry.reason)).toStrictEqual([
        "Creation",
        "AcceptanceOfCreation",
        "Termination",
      ]);
      const messages = ok(await reopened.messages.getMessages());
      expect(messages.map((message) => message.id)).toStrictEqual([mail.id, notification.id]);
      expect(messages[1]?.content).toStrictEqual({ "@type": "Notification", n: 1 });
    });

    test("an admin-started process and a Notification released by a cancel while away arrive on reopening", async () => {
      const storage = lokiStorage();
      const a = await w.runtime();
      const b = await w.runtime({ storage });
      await relate(a, b);
      ok(await b.identityDeletion.initiateIdentityDeletionProcess());
      const held = ok(
        await a.messages.sendMessage({
          recipients: [b.address],
          content: { "@type": "Notification", held: true },
        }),
      );
      expect(ok(await b.messages.getMessages())).toHaveLength(0);
      await b.close();

      // B's identity cancels through the Backbone port while its runtime is closed; then the Admin UI starts a process.
      ok(await w.backbone.decideIdentityDeletionProcess(b.address, "cancel"));
      const started = ok(await w.backbone.admin.startIdentityDeletionProcess(b.address));
      expect(started.status).toBe("WaitingForApproval");

      const reopened = await w.runtime({ storage });
      expect(reopened.address).toBe(b.address);
      expect(ok(await reopened.messages.getMessages()).map((message) => message.id)).toStrictEqual([held.id]);
      expect(ok(await reopened.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(started);
      expect(
        ok(await reopened.identityDeletion.getIdentityDeletionProcesses()).map((p) => p.status),
      ).toStrictEqual(["Cancelled", "WaitingForApproval"]);
      // The peer's side no longer says B is in deletion.
      const relationship = ok(await reopened.relationships.getRelationships())[0];
      expect(relationship?.peerDeletionInfo).toBeUndefined();
    });
  });

  describe("a closed Backbone answers with Results", () => {
    test("admin and facade calls that reach it resolve to runtimeClosed; runDueJobs resolves", async () => {
      const { a, b } = await w.connected();
      await w.backbone.close();

      expect(err(await w.backbone.admin.startIdentityDeletionProcess(a.address)).code).toBe(
        CODE.runtimeClosed,
      );
      expect(err(await a.identityDeletion.initiateIdentityDeletionProcess()).code).toBe(CODE.runtimeClosed);
      expect(err(await a.relationships.createOwnRelationshipTemplate()).code).toBe(CODE.runtimeClosed);
      expect(err(await a.relationships.getRelationshipTemplate({ id: "RLTaaaaaaaaaaaaaaaaa" })).code).toBe(
        CODE.runtimeClosed,
      );
      expect(
        err(await a.messages.sendMessage({ recipients: [b.address], content: { "@type": "Mail" } })).code,
      ).toBe(CODE.runtimeClosed);
      await expect(w.backbone.runDueJobs()).resolves.toBeUndefined();
    });
  });

  describe("admin.startIdentityDeletionProcess validates its address; lokiStorage tolerates undefined keys", () => {
    test("malformed addresses are validation errors, an unknown one is recordNotFound", async () => {
      for (const address of [undefined as never, "garbage"]) {
        const error = err(await w.backbone.admin.startIdentityDeletionProcess(address));
        expect(error.code).toBe(CODE.invalidPropertyValue);
        expect(error.message).toContain("address");
      }
      expect(err(await w.backbone.admin.startIdentityDeletionProcess(UNKNOWN_ADDRESS)).code).toBe(
        "error.runtime.recordNotFound",
      );
    });

    test("lokiStorage get and getBySlot with undefined resolve to undefined", async () => {
      const storage = lokiStorage();
      await storage.commit([{ kind: "put", collection: "c", record: { id: "r", slot: "s", data: "{}" } }]);
      await expect(storage.get("c", undefined as never)).resolves.toBeUndefined();
      await expect(storage.getBySlot("c", undefined as never)).resolves.toBeUndefined();
      await expect(storage.getBySlot("c", "s")).resolves.toMatchObject({ id: "r" });
      await storage.close();
    });
  });

  describe("grace periods must end within JavaScript dates", () => {
    test("a grace period of 1e9 days is a validation error naming it, and creates no process", async () => {
      const rt = await w.runtime();
      const error = err(
        await rt.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 1e9 }),
      );
      expect(error.code).toBe(CODE.invalidPropertyValue);
      expect(error.message).toContain("lengthOfGracePeriodInDays");
      expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([]);
      expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual([]);
      // Nothing is active: a sound initiation goes through.
      expect(ok(await rt.identityDeletion.initiateIdentityDeletionProcess()).status).toBe("Approved");
    });

    test("new LocalBackbone({ gracePeriodInDays: 1e9 }) throws a RangeError", () => {
      expect(() => new LocalBackbone({ gracePeriodInDays: 1e9 })).toThrow(RangeError);
      expect(() => new LocalBackbone({ approvalPeriodInDays: 1e9 })).toThrow(RangeError);
    });
  });
});
