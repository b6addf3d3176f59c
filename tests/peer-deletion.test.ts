import type { JsonValue, Runtime } from "../src/index";
import { err, ok, recordEvents, worldPerTest } from "./support";

const PEER_EVENTS = [
  "transport.peerToBeDeleted",
  "transport.peerDeletionCancelled",
  "transport.peerDeleted",
] as const;

const w = worldPerTest();

/** Moves past the grace period of an Approved process (default 14 days) and lets the Backbone act. */
async function passGracePeriod(): Promise<void> {
  w.clock.advance({ days: 14, ms: 1 });
  await w.backbone.runDueJobs();
}

async function relationshipOf(runtime: Runtime, id: string) {
  return ok(await runtime.relationships.getRelationship({ id }));
}

describe("peers are told about a deletion (behaviour §5)", () => {
  test("an Approved process: ToBeDeleted with the grace period's end, status unchanged, transport.peerToBeDeleted", async () => {
    const { a, b, relationshipId } = await w.connected();
    const events = recordEvents(a, ...PEER_EVENTS, "transport.relationshipChanged");
    const process = ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    const seen = await relationshipOf(a, relationshipId);
    expect(seen.status).toBe("Active");
    expect(seen.peerDeletionInfo).toStrictEqual({
      deletionStatus: "ToBeDeleted",
      deletionDate: process.gracePeriodEndsAt,
    });
    expect(events.map((e) => [e.name, e.data])).toStrictEqual([["transport.peerToBeDeleted", seen]]);
    // The identity in deletion sees no deletion info about its peer.
    expect((await relationshipOf(b, relationshipId)).peerDeletionInfo).toBeUndefined();
  });

  test("a process waiting for approval tells peers nothing; its approval does", async () => {
    const { a, b, relationshipId } = await w.connected();
    const events = recordEvents(a, ...PEER_EVENTS);
    ok(await w.backbone.admin.startIdentityDeletionProcess(b.address));
    expect((await relationshipOf(a, relationshipId)).peerDeletionInfo).toBeUndefined();
    expect(events).toEqual([]);
    w.clock.advance({ days: 1 });
    const approved = ok(await b.identityDeletion.approveIdentityDeletionProcess());
    expect((await relationshipOf(a, relationshipId)).peerDeletionInfo).toStrictEqual({
      deletionStatus: "ToBeDeleted",
      deletionDate: approved.gracePeriodEndsAt,
    });
    expect(events.map((e) => e.name)).toEqual(["transport.peerToBeDeleted"]);
  });

  test("a rejected admin process and an expired approval tell peers nothing", async () => {
    const { a, b, relationshipId } = await w.connected();
    const events = recordEvents(a, ...PEER_EVENTS);
    ok(await w.backbone.admin.startIdentityDeletionProcess(b.address));
    ok(await b.identityDeletion.rejectIdentityDeletionProcess());
    ok(await w.backbone.admin.startIdentityDeletionProcess(b.address));
    w.clock.advance({ days: 8 });
    await w.backbone.runDueJobs();
    expect(events).toEqual([]);
    expect((await relationshipOf(a, relationshipId)).peerDeletionInfo).toBeUndefined();
  });

  test("a cancelled deletion removes the info again and raises transport.peerDeletionCancelled", async () => {
    const { a, b, relationshipId } = await w.connected();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    const events = recordEvents(a, ...PEER_EVENTS);
    ok(await b.identityDeletion.cancelIdentityDeletionProcess());
    const seen = await relationshipOf(a, relationshipId);
    expect(seen).not.toHaveProperty("peerDeletionInfo");
    expect(seen.status).toBe("Active");
    expect(events.map((e) => [e.name, e.data])).toStrictEqual([["transport.peerDeletionCancelled", seen]]);
  });

  test("the deletion itself: Deleted, DeletionProposed, audit entry DecompositionDueToIdentityDeletion, transport.peerDeleted", async () => {
    const { a, b, relationshipId } = await w.connected();
    const process = ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    const events = recordEvents(a, ...PEER_EVENTS);
    await passGracePeriod();
    const seen = await relationshipOf(a, relationshipId);
    expect(seen.status).toBe("DeletionProposed");
    expect(seen.peerDeletionInfo).toStrictEqual({
      deletionStatus: "Deleted",
      deletionDate: process.gracePeriodEndsAt,
    });
    expect(seen.auditLog.at(-1)).toStrictEqual({
      createdAt: w.clock.now().toISOString(),
      createdBy: b.address,
      reason: "DecompositionDueToIdentityDeletion",
      oldStatus: "Active",
      newStatus: "DeletionProposed",
    });
    expect(events.map((e) => [e.name, e.data])).toStrictEqual([["transport.peerDeleted", seen]]);
  });

  test.each(["Pending", "Active", "Terminated"] as const)(
    "a %s relationship is told at every step",
    async (status) => {
      const { a, b, relationshipId } = await w.connected(status === "Pending");
      if (status === "Terminated") ok(await a.relationships.terminateRelationship({ relationshipId }));
      const events = recordEvents(a, ...PEER_EVENTS);
      ok(await b.identityDeletion.initiateIdentityDeletionProcess());
      ok(await b.identityDeletion.cancelIdentityDeletionProcess());
      ok(await b.identityDeletion.initiateIdentityDeletionProcess());
      await passGracePeriod();
      expect(events.map((e) => e.name)).toEqual([
        "transport.peerToBeDeleted",
        "transport.peerDeletionCancelled",
        "transport.peerToBeDeleted",
        "transport.peerDeleted",
      ]);
      expect((await relationshipOf(a, relationshipId)).auditLog.at(-1)?.oldStatus).toBe(status);
    },
  );

  test.each(["Rejected", "Revoked", "DeletionProposed"] as const)(
    "a %s relationship is not told",
    async (status) => {
      const { a, b, relationshipId } = await w.connected(status !== "DeletionProposed");
      if (status === "Rejected") ok(await a.relationships.rejectRelationship({ relationshipId }));
      if (status === "Revoked") ok(await b.relationships.revokeRelationship({ relationshipId }));
      if (status === "DeletionProposed") {
        ok(await a.relationships.terminateRelationship({ relationshipId }));
        ok(await b.relationships.decomposeRelationship({ relationshipId }));
      }
      const before = await relationshipOf(a, relationshipId);
      const events = recordEvents(a, ...PEER_EVENTS);
      ok(await b.identityDeletion.initiateIdentityDeletionProcess());
      await passGracePeriod();
      expect(events).toEqual([]);
      expect(await relationshipOf(a, relationshipId)).toStrictEqual(before);
    },
  );

  test("every peer is told, and only the peers of the identity in deletion", async () => {
    const b = await w.runtime();
    const template = ok(await b.relationships.createOwnRelationshipTemplate());
    const peers = [await w.runtime(), await w.runtime(), await w.runtime()];
    for (const peer of peers) {
      const { id } = ok(await peer.relationships.createRelationship({ templateId: template.id }));
      ok(await b.relationships.acceptRelationship({ relationshipId: id }));
    }
    const bystander = await w.runtime();
    const bystanderEvents = recordEvents(bystander, ...PEER_EVENTS);
    const counts = peers.map((peer) => recordEvents(peer, ...PEER_EVENTS));
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    expect(counts.map((events) => events.length)).toEqual([1, 1, 1]);
    expect(bystanderEvents).toEqual([]);
  });

  test("the peer's IdentityMetadata about the deleted identity survives until the peer decomposes", async () => {
    const { a, b, relationshipId } = await w.connected();
    ok(await a.identityMetadata.upsertIdentityMetadata({ reference: b.address, key: "crm", value: 42 }));
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    await passGracePeriod();
    expect(ok(await a.identityMetadata.getIdentityMetadata({ reference: b.address, key: "crm" })).value).toBe(
      42,
    );
    // Still familiar: the DeletionProposed relationship is stored.
    ok(await a.identityMetadata.upsertIdentityMetadata({ reference: b.address, key: "crm", value: 43 }));
    ok(await a.relationships.decomposeRelationship({ relationshipId }));
    const gone = err(await a.identityMetadata.getIdentityMetadata({ reference: b.address, key: "crm" }));
    expect(gone.code).toBe("error.runtime.identityMetadata.notFound");
  });

  test("with the system clock, peers learn of the deletion by the Backbone's own timer", async () => {
    const { LocalBackbone, createRuntime } = await import("../src/index");
    const backbone = new LocalBackbone();
    const a = await createRuntime({ backbone });
    const b = await createRuntime({ backbone });
    try {
      const template = ok(await a.relationships.createOwnRelationshipTemplate());
      const { id } = ok(await b.relationships.createRelationship({ templateId: template.id }));
      ok(await a.relationships.acceptRelationship({ relationshipId: id }));
      const deleted = new Promise<string>((resolve) =>
        a.events.on("transport.peerDeleted", (e) => resolve(e.data.status)),
      );
      ok(await b.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 0 }));
      const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("timed out"), 2_000).unref());
      expect(await Promise.race([deleted, timeout])).toBe("DeletionProposed");
    } finally {
      await a.close();
      await b.close();
      await backbone.close();
    }
  });
});

describe("creating a relationship from the template of an identity in deletion (behaviour §7)", () => {
  async function templateOfB() {
    const b = await w.runtime();
    const c = await w.runtime();
    const template = ok(await b.relationships.createOwnRelationshipTemplate());
    return { b, c, templateId: template.id };
  }

  test("in deletion: refused, by the check too, and nothing is created", async () => {
    const { b, c, templateId } = await templateOfB();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    const code = "error.transport.relationships.activeIdentityDeletionProcessOfOwnerOfRelationshipTemplate";
    const error = err(await c.relationships.createRelationship({ templateId }));
    expect(error.code).toBe(code);
    expect(error.message).toContain(b.address);
    expect(ok(await c.relationships.canCreateRelationship({ templateId }))).toStrictEqual({
      isSuccess: false,
      code,
      message: error.message,
    });
    expect(ok(await c.relationships.getRelationships())).toEqual([]);
    expect(ok(await b.relationships.getRelationships())).toEqual([]);
  });

  test("deleted: refused with deletedOwnerOfRelationshipTemplate", async () => {
    const { b, c, templateId } = await templateOfB();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    await passGracePeriod();
    const code = "error.transport.relationships.deletedOwnerOfRelationshipTemplate";
    const events = recordEvents(c, "transport.relationshipChanged");
    expect(err(await c.relationships.createRelationship({ templateId })).code).toBe(code);
    expect(ok(await c.relationships.canCreateRelationship({ templateId })).code).toBe(code);
    expect(ok(await c.relationships.getRelationships())).toEqual([]);
    expect(ok(await b.relationships.getRelationships())).toEqual([]);
    expect(events).toEqual([]);
  });

  test("the deletion checks come before an existing relationship or an expired template", async () => {
    const { b, c, templateId } = await templateOfB();
    ok(await c.relationships.createRelationship({ templateId }));
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    w.clock.advance({ days: 400 });
    await w.backbone.runDueJobs();
    expect(err(await c.relationships.createRelationship({ templateId })).code).toBe(
      "error.transport.relationships.deletedOwnerOfRelationshipTemplate",
    );
  });

  test("waiting for approval does not block; after a cancel the template works again", async () => {
    const { b, c, templateId } = await templateOfB();
    ok(await w.backbone.admin.startIdentityDeletionProcess(b.address));
    expect(ok(await c.relationships.canCreateRelationship({ templateId })).isSuccess).toBe(true);
    ok(await b.identityDeletion.approveIdentityDeletionProcess());
    expect(ok(await c.relationships.canCreateRelationship({ templateId })).isSuccess).toBe(false);
    ok(await b.identityDeletion.cancelIdentityDeletionProcess());
    expect(ok(await c.relationships.createRelationship({ templateId })).status).toBe("Pending");
  });

  test("reading the template is never blocked by its creator's deletion", async () => {
    const { b, c, templateId } = await templateOfB();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    await passGracePeriod();
    expect(ok(await c.relationships.getRelationshipTemplate({ id: templateId })).createdBy).toBe(b.address);
  });
});

describe("sending messages to an identity in deletion (behaviour §7)", () => {
  async function threeWay() {
    const { a, b } = await w.connected();
    const c = await w.runtime();
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    const { id } = ok(await c.relationships.createRelationship({ templateId: template.id }));
    ok(await a.relationships.acceptRelationship({ relationshipId: id }));
    return { a, b, c };
  }

  test("rule 2: a non-Notification to a peer in deletion is refused, naming it, and reaches nobody", async () => {
    const { a, b, c } = await threeWay();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    const error = err(
      await a.messages.sendMessage({ recipients: [c.address, b.address], content: { text: "hi" } }),
    );
    expect(error.code).toBe("error.runtime.messages.peerIsInDeletion");
    expect(error.message).toContain(b.address);
    expect(error.message).not.toContain(c.address);
    expect(ok(await c.messages.getMessages())).toEqual([]);
    expect(ok(await a.messages.getMessages())).toEqual([]);
  });

  test.each(["Pending", "Terminated"] as const)(
    "rule 2 comes before rule 3: a peer in deletion over a %s relationship gets peerIsInDeletion",
    async (status) => {
      const { a, b, relationshipId } = await w.connected(status === "Pending");
      if (status === "Terminated") ok(await a.relationships.terminateRelationship({ relationshipId }));
      ok(await a.identityDeletion.initiateIdentityDeletionProcess());
      const received = recordEvents(a, "transport.messageReceived");
      const error = err(await b.messages.sendMessage({ recipients: [a.address], content: { text: "hi" } }));
      expect(error.code).toBe("error.runtime.messages.peerIsInDeletion");
      expect(error.message).toContain(a.address);
      expect(ok(await a.messages.getMessages())).toEqual([]);
      expect(ok(await b.messages.getMessages())).toEqual([]);
      expect(received).toEqual([]);
    },
  );

  test("rule 1: any content to a deleted peer is refused with peerIsDeleted, ahead of the other rules", async () => {
    const { a, b } = await threeWay();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    await passGracePeriod();
    const contents: JsonValue[] = [{ text: "hi" }, { "@type": "Notification", text: "hi" }];
    for (const content of contents) {
      const error = err(await a.messages.sendMessage({ recipients: [b.address], content }));
      expect(error.code).toBe("error.transport.messages.peerIsDeleted");
      expect(error.message).toContain(b.address);
    }
    expect(ok(await a.messages.getMessages())).toEqual([]);
    expect(ok(await b.messages.getMessages())).toEqual([]);
  });

  test("rule 1 beats rule 2, and the error lists every deleted recipient", async () => {
    const { a, b, c } = await threeWay();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    await passGracePeriod();
    ok(await c.identityDeletion.initiateIdentityDeletionProcess());
    const error = err(
      await a.messages.sendMessage({ recipients: [c.address, b.address], content: { x: 1 } }),
    );
    expect(error.code).toBe("error.transport.messages.peerIsDeleted");
    expect(error.message).toContain(b.address);
    for (const runtime of [a, b, c]) expect(ok(await runtime.messages.getMessages())).toEqual([]);
  });

  test("a Notification to a peer in deletion is held, and delivered when the peer cancels", async () => {
    const { a, b, c } = await threeWay();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    const received = recordEvents(b, "transport.messageReceived");
    const sent = ok(
      await a.messages.sendMessage({
        recipients: [b.address, c.address],
        content: { "@type": "Notification", n: 1 },
      }),
    );
    ok(await a.messages.sendMessage({ recipients: [b.address], content: { "@type": "Notification", n: 2 } }));
    expect(ok(await c.messages.getMessages()).map((m) => m.id)).toEqual([sent.id]);
    expect(ok(await b.messages.getMessages())).toEqual([]);
    expect(received).toEqual([]);
    ok(await b.identityDeletion.cancelIdentityDeletionProcess());
    const delivered = ok(await b.messages.getMessages());
    expect(delivered.map((m) => m.content)).toEqual([
      { "@type": "Notification", n: 1 },
      { "@type": "Notification", n: 2 },
    ]);
    expect(delivered[0]).toStrictEqual(sent);
    expect(received.map((e) => e.data.id)).toEqual(delivered.map((m) => m.id));
  });

  test("a held Notification is dropped when the peer is deleted, and not delivered by a later cancel of anything", async () => {
    const { a, b } = await threeWay();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    ok(await a.messages.sendMessage({ recipients: [b.address], content: { "@type": "Notification" } }));
    await passGracePeriod();
    expect(ok(await b.messages.getMessages())).toEqual([]);
    expect(err(await b.identityDeletion.cancelIdentityDeletionProcess()).code).toBe(
      "error.runtime.identityDeletionProcess.noApprovedIdentityDeletionProcess",
    );
    expect(ok(await b.messages.getMessages())).toEqual([]);
  });

  test("after a cancel, messages of any content reach the peer again", async () => {
    const { a, b } = await threeWay();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    ok(await b.identityDeletion.cancelIdentityDeletionProcess());
    ok(await a.messages.sendMessage({ recipients: [b.address], content: { text: "welcome back" } }));
    expect(ok(await b.messages.getMessages()).map((m) => m.content)).toEqual([{ text: "welcome back" }]);
  });

  test("the identity in deletion itself may still send messages", async () => {
    const { a, b } = await threeWay();
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    ok(await b.messages.sendMessage({ recipients: [a.address], content: { text: "still here" } }));
    expect(ok(await a.messages.getMessages()).map((m) => m.content)).toEqual([{ text: "still here" }]);
  });
});
