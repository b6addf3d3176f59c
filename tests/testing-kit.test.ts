// The testing kit of "identity-runtime/testing": the test world, the Result assertions and the jest matchers.
import { AssertionError } from "node:assert";
import { lokiStorage } from "../src/index";
import type { Runtime } from "../src/index";
import { assertErr, assertOk, createTestWorld, resultMatchers } from "../src/testing";
import "../src/testing/jest";
import { delegating } from "./support";

/** An integrator's app, as in docs/testing.md: it closes a customer's account once the customer is deleted. */
class Crm {
  readonly closed = new Set<string>();

  constructor(shop: Runtime, { broken = false } = {}) {
    shop.events.on("transport.peerDeleted", (event) => {
      if (!broken) this.closed.add(event.data.peer);
    });
  }
}

/** The test of docs/testing.md, for a CRM that works or one that is broken. */
async function peerDeletionReaction(broken: boolean): Promise<void> {
  const world = await createTestWorld({ identities: ["shop", "customer"], connected: true });
  try {
    const crm = new Crm(world.runtime("shop"), { broken });
    assertOk(await world.runtime("customer").identityDeletion.initiateIdentityDeletionProcess());
    await world.advance({ days: 15 });
    expect(crm.closed.has(world.address("customer"))).toBe(true);
  } finally {
    await world.close();
  }
}

describe("the test world", () => {
  test("the peer-deletion reaction of the docs passes for a working app and fails for a broken one", async () => {
    await peerDeletionReaction(false);
    await expect(peerDeletionReaction(true)).rejects.toThrow(/toBe/);
  });

  test("named identities, connected in the pairs given, with every runtime's events recorded in order", async () => {
    const world = await createTestWorld({
      identities: ["alice", "bob", "carol"],
      connected: [["bob", "alice"]],
    });
    try {
      expect(new Set(["alice", "bob", "carol"].map((name) => world.address(name as "alice")))).toHaveProperty(
        "size",
        3,
      );
      const [relationship] = assertOk(await world.runtime("bob").relationships.getRelationships());
      expect(relationship).toMatchObject({ peer: world.address("alice"), status: "Active" });
      expect(assertOk(await world.runtime("carol").relationships.getRelationships())).toEqual([]);
      expect(world.events("alice").all.map((event) => event.name)).toEqual([
        "transport.relationshipChanged",
        "transport.relationshipChanged",
      ]);
      expect(
        world
          .events("alice")
          .of("transport.relationshipChanged")
          .map((e) => e.data.status),
      ).toEqual(["Pending", "Active"]);
      world.events("alice").clear();
      expect(world.events("alice").all).toEqual([]);
      expect(() => world.runtime("dave" as "alice")).toThrow(/no identity called "dave"/);
    } finally {
      await world.close();
    }
  });

  test("connected: true relates every two identities", async () => {
    const world = await createTestWorld({ identities: ["a", "b", "c"], connected: true });
    try {
      for (const name of ["a", "b", "c"] as const) {
        const active = assertOk(
          await world.runtime(name).relationships.getRelationships({ status: "Active" }),
        );
        expect(active).toHaveLength(2);
      }
    } finally {
      await world.close();
    }
  });

  test("advance moves the clock and applies what became due; next waits for an event and names what it missed", async () => {
    const world = await createTestWorld({ identities: ["shop", "customer"], connected: true });
    try {
      const start = world.clock.now().getTime();
      assertOk(await world.runtime("customer").identityDeletion.initiateIdentityDeletionProcess());
      const toBeDeleted = await world.events("shop").next("transport.peerToBeDeleted");
      expect(toBeDeleted.data.peerDeletionInfo?.deletionStatus).toBe("ToBeDeleted");
      // A period includes its end instant: at 14 days the identity is still in its grace period.
      await world.advance({ days: 14 });
      expect(world.events("shop").of("transport.peerDeleted")).toEqual([]);
      await expect(world.events("shop").next("transport.peerDeleted", { timeoutMs: 20 })).rejects.toThrow(
        "no first transport.peerDeleted within 20 ms (seen: 0)",
      );
      // Resolves once it is published, after the call.
      const deleted = world.events("shop").next("transport.peerDeleted");
      await world.advance({ ms: 1 });
      expect((await deleted).data.peer).toBe(world.address("customer"));
      expect(world.clock.now().getTime() - start).toBe(14 * 86_400_000 + 1);
      expect(
        assertOk(await world.runtime("customer").identityDeletion.checkIfIdentityIsDeleted()).isDeleted,
      ).toBe(true);
    } finally {
      await world.close();
    }
  });

  test("close() closes every runtime and the Backbone", async () => {
    const world = await createTestWorld({ identities: ["a"] });
    await world.close();
    assertErr(await world.runtime("a").relationships.getRelationships(), "error.runtime.runtimeClosed");
    assertErr(
      await world.backbone.getIdentityDeletionProcesses(world.address("a")),
      "error.runtime.runtimeClosed",
    );
  });

  test("a storage factory gives the Backbone and each runtime an adapter of its own, which close() closes", async () => {
    const made: { closed: boolean }[] = [];
    const world = await createTestWorld({
      identities: ["a", "b"],
      storage: () => {
        const adapter = delegating(lokiStorage());
        const state = { closed: false };
        made.push(state);
        return { ...adapter, close: () => ((state.closed = true), adapter.close()) };
      },
    });
    expect(made).toHaveLength(3);
    await world.close();
    expect(made.every((state) => state.closed)).toBe(true);
  });

  test("identities must have different names", async () => {
    await expect(createTestWorld({ identities: ["a", "a"] })).rejects.toThrow(RangeError);
  });
});

describe("Result assertions", () => {
  test("assertOk returns the value; on an Err it throws an AssertionError naming the code and message", async () => {
    const world = await createTestWorld({ identities: ["a"] });
    try {
      const runtime = world.runtime("a");
      const template = assertOk(await runtime.relationships.createOwnRelationshipTemplate());
      expect(template.createdBy).toBe(runtime.address);
      const missing = await runtime.relationships.getRelationship({ id: "REL00000000000000000" });
      expect(() => assertOk(missing)).toThrow(AssertionError);
      expect(() => assertOk(missing)).toThrow(
        /^expected an Ok result, got Err error\.runtime\.recordNotFound: .*REL0/,
      );
    } finally {
      await world.close();
    }
  });

  test("assertErr returns the error of the code given; any other outcome is an AssertionError naming expected and actual", async () => {
    const world = await createTestWorld({ identities: ["a"] });
    try {
      const runtime = world.runtime("a");
      const missing = await runtime.relationships.getRelationship({ id: "REL00000000000000000" });
      expect(assertErr(missing, "error.runtime.recordNotFound", "REL0").code).toBe(
        "error.runtime.recordNotFound",
      );
      assertErr(missing, "error.runtime.recordNotFound", /Relationship/);
      expect(() => assertErr(missing, "error.runtime.validation.invalidPropertyValue")).toThrow(
        /^expected Err error\.runtime\.validation\.invalidPropertyValue, got Err error\.runtime\.recordNotFound: /,
      );
      expect(() => assertErr(missing, "error.runtime.recordNotFound", "nowhere")).toThrow(
        /^expected Err error\.runtime\.recordNotFound with a message containing "nowhere", got Err error\.runtime\.recordNotFound: /,
      );
      const created = await runtime.relationships.createOwnRelationshipTemplate();
      expect(() => assertErr(created, "error.runtime.recordNotFound")).toThrow(
        /^expected Err error\.runtime\.recordNotFound, got Ok \{"id":"RLT/,
      );
    } finally {
      await world.close();
    }
  });

  test("the jest matchers pass and fail as their names say, with messages naming expected and actual codes", async () => {
    const world = await createTestWorld({ identities: ["a"] });
    try {
      const runtime = world.runtime("a");
      const missing = await runtime.relationships.getRelationship({ id: "REL00000000000000000" });
      const created = await runtime.relationships.createOwnRelationshipTemplate();
      expect(created).toBeOk();
      expect(created).toBeOk(assertOk(created));
      expect(missing).toBeErr("error.runtime.recordNotFound");
      expect(missing).toBeErr("error.runtime.recordNotFound", "REL0");
      expect(missing).not.toBeOk();
      expect(created).not.toBeErr("error.runtime.recordNotFound");
      expect(() => expect(missing).toBeErr("error.runtime.runtimeClosed")).toThrow(
        "expected Err error.runtime.runtimeClosed, got Err error.runtime.recordNotFound: ",
      );
      expect(() => expect(missing).toBeOk()).toThrow(
        "expected an Ok result, got Err error.runtime.recordNotFound",
      );
      expect(() => expect(created).toBeOk({ id: "other" })).toThrow(
        /^expected Ok \{"id":"other"\}, got Ok \{"id":"RLT/,
      );
      expect(() => expect(missing).not.toBeErr("error.runtime.recordNotFound")).toThrow(
        "expected a result other than Err error.runtime.recordNotFound, got Err error.runtime.recordNotFound",
      );
      expect(() => expect({ not: "a result" }).toBeOk()).toThrow('{"not":"a result"} (not a Result)');
      expect(Object.keys(resultMatchers)).toEqual(["toBeOk", "toBeErr"]);
    } finally {
      await world.close();
    }
  });
});
