// Property-based: arbitrary JSON-ish and non-JSON input thrown at every facade method. Whatever comes in, a
// method resolves to a Result (it never throws or rejects), and a failure writes nothing to any storage.
import fc from "fast-check";
import type { Runtime, StorageAdapter } from "../src/index";
import { delegating, ok, testStorage, UNKNOWN_ADDRESS, world } from "./support";

/** A fresh storage of the suite's kind that counts the writes that changed something (a refused one did not). */
function counting(): { storage: StorageAdapter; writes: () => number; dispose: () => Promise<void> } {
  const { storage: inner, dispose } = testStorage();
  let writes = 0;
  const storage = delegating(inner, (target) => ({
    commit: async (changes) => {
      const affected = await target.commit(changes);
      if (affected.some((count) => count > 0)) writes++;
      return affected;
    },
    upsertBySlot: async (collection, record) => {
      const stored = await target.upsertBySlot(collection, record);
      writes++;
      return stored;
    },
  }));
  return { storage, writes: () => writes, dispose };
}

/** Values no JSON parser makes: they reach the library only through its TypeScript API. */
function hostile(): fc.Arbitrary<unknown> {
  const throwingGetter = () => ({
    get value(): unknown {
      throw new Error("getter");
    },
  });
  const throwingProxy = () =>
    new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error("trap");
        },
        getPrototypeOf: () => {
          throw new Error("trap");
        },
      },
    );
  const toJsonPrototype = () => {
    const prototype = Object.create(null) as Record<string, unknown>;
    prototype["toJSON"] = () => ({ reference: UNKNOWN_ADDRESS });
    return Object.create(prototype) as unknown;
  };
  const deep = (levels: number) => JSON.parse("[".repeat(levels) + "]".repeat(levels)) as unknown;
  const cyclic = () => {
    const value: Record<string, unknown> = { a: 1 };
    value["self"] = value;
    return value;
  };
  return fc.oneof(
    fc.constantFrom(throwingGetter, throwingProxy, toJsonPrototype, cyclic).map((make) => make()),
    fc.integer({ min: 250, max: 5_000 }).map(deep),
    fc.constantFrom(
      Symbol("s"),
      10n,
      () => 1,
      new Date(),
      new Map([["a", 1]]),
      Number.NaN,
      -Infinity,
      "x".repeat(70_000),
    ),
  );
}

/** Anything at all: JSON values, non-JSON values, and the hostile ones. */
function anyInput(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.anything({
      maxDepth: 3,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withObjectString: true,
      withSet: true,
      withSparseArray: true,
      withTypedArray: true,
    }),
    fc.jsonValue({ maxDepth: 3 }),
    hostile(),
  );
}

/** A property's value: sometimes one that fits (so checks past validation run too), mostly anything. */
function either(valid: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...valid) }, { weight: 2, arbitrary: anyInput() });
}

/** A request: a record of some of these properties (plus, now and then, an unknown one), or anything at all. */
function request(properties: Record<string, readonly unknown[]>): fc.Arbitrary<unknown> {
  const shape: Record<string, fc.Arbitrary<unknown>> = { unknownProperty: anyInput() };
  for (const [name, valid] of Object.entries(properties)) shape[name] = either(valid);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record(shape, { requiredKeys: [] }) },
    { weight: 1, arbitrary: anyInput() },
  );
}

interface Scene {
  a: Runtime;
  writes: () => number;
  ids: { relationship: string; template: string; request: string; message: string; process: string };
  peer: string;
  close(): Promise<void>;
}

/**
 * Two identities with an Active relationship, a template, an incoming request (and the message that carried it)
 * and a past deletion process.
 */
async function scene(): Promise<Scene> {
  const backboneStorage = counting();
  const runtimeStorage = counting();
  const scenery = world({ backbone: { storage: backboneStorage.storage } });
  const a = await scenery.runtime({ storage: runtimeStorage.storage });
  const b = await scenery.runtime();
  const template = ok(await a.relationships.createOwnRelationshipTemplate({ content: { hello: 1 } }));
  const relationship = ok(await b.relationships.createRelationship({ templateId: template.id }));
  ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
  const outgoing = ok(await b.requests.createOutgoingRequest({ peer: a.address, content: { items: [] } }));
  const carrier = ok(await b.messages.sendMessage({ recipients: [a.address], content: outgoing.content }));
  const process = ok(await a.identityDeletion.initiateIdentityDeletionProcess());
  ok(await a.identityDeletion.cancelIdentityDeletionProcess());
  return {
    a,
    writes: () => backboneStorage.writes() + runtimeStorage.writes(),
    ids: {
      relationship: relationship.id,
      template: template.id,
      request: outgoing.id,
      message: carrier.id,
      process: process.id,
    },
    peer: b.address,
    async close() {
      await scenery.close();
      await backboneStorage.dispose();
      await runtimeStorage.dispose();
    },
  };
}

type Outcome = { ok: true; err: false } | { ok: false; err: true; val: { code: string; message: string } };
type Call = (runtime: Runtime, input: unknown) => Promise<Outcome>;

/** Every facade method, with what a plausible request of it looks like. */
function methods(s: Scene): [string, Call, fc.Arbitrary<unknown>][] {
  const addresses = [s.a.address, s.peer, UNKNOWN_ADDRESS];
  const content = [{ "@type": "Notification" }, { note: "hi" }, null, [1, "two"]];
  const relationshipId = { relationshipId: [s.ids.relationship, "RELAAAAAAAAAAAAAAAAA"] };
  const requestId = { requestId: [s.ids.request, "REQAAAAAAAAAAAAAAAAA"] };
  const none = request({});
  const asAny =
    (method: (request: never) => Promise<unknown>): Call =>
    (_runtime, input) =>
      method(input as never) as Promise<Outcome>;
  const { identityMetadata: im, relationships: rel, messages, requests, identityDeletion: del } = s.a;
  return [
    [
      "upsertIdentityMetadata",
      asAny(im.upsertIdentityMetadata),
      request({ reference: addresses, key: ["k", ""], value: content }),
    ],
    ["getIdentityMetadata", asAny(im.getIdentityMetadata), request({ reference: addresses, key: ["k", ""] })],
    [
      "deleteIdentityMetadata",
      asAny(im.deleteIdentityMetadata),
      request({ reference: addresses, key: ["k", ""] }),
    ],
    [
      "createOwnRelationshipTemplate",
      asAny(rel.createOwnRelationshipTemplate),
      request({
        content,
        expiresAt: ["2031-01-01T00:00:00.000Z", "2031-02-30T00:00:00.000Z"],
        maxNumberOfAllocations: [1, 0],
      }),
    ],
    ["getRelationshipTemplate", asAny(rel.getRelationshipTemplate), request({ id: [s.ids.template] })],
    ["getRelationshipTemplates", asAny(rel.getRelationshipTemplates), none],
    [
      "canCreateRelationship",
      asAny(rel.canCreateRelationship),
      request({ templateId: [s.ids.template], creationContent: content }),
    ],
    [
      "createRelationship",
      asAny(rel.createRelationship),
      request({ templateId: [s.ids.template], creationContent: content }),
    ],
    ["acceptRelationship", asAny(rel.acceptRelationship), request(relationshipId)],
    ["rejectRelationship", asAny(rel.rejectRelationship), request(relationshipId)],
    ["revokeRelationship", asAny(rel.revokeRelationship), request(relationshipId)],
    ["terminateRelationship", asAny(rel.terminateRelationship), request(relationshipId)],
    ["decomposeRelationship", asAny(rel.decomposeRelationship), request(relationshipId)],
    ["getRelationship", asAny(rel.getRelationship), request({ id: [s.ids.relationship] })],
    [
      "getRelationships",
      asAny(rel.getRelationships),
      request({ peer: addresses, status: ["Active", "Nope"] }),
    ],
    ["sendMessage", asAny(messages.sendMessage), request({ recipients: [[s.peer], [], addresses], content })],
    ["getMessages", asAny(messages.getMessages), none],
    ["getMessage", asAny(messages.getMessage), request({ id: [s.ids.message, "MSGAAAAAAAAAAAAAAAAA"] })],
    [
      "canCreateOutgoingRequest",
      asAny(requests.canCreateOutgoingRequest),
      request({ peer: addresses, content }),
    ],
    ["createOutgoingRequest", asAny(requests.createOutgoingRequest), request({ peer: addresses, content })],
    ["getRequest", asAny(requests.getRequest), request({ id: [s.ids.request] })],
    ["getOutgoingRequests", asAny(requests.getOutgoingRequests), none],
    ["getIncomingRequests", asAny(requests.getIncomingRequests), none],
    ["canAcceptIncomingRequest", asAny(requests.canAcceptIncomingRequest), request(requestId)],
    ["canRejectIncomingRequest", asAny(requests.canRejectIncomingRequest), request(requestId)],
    ["acceptIncomingRequest", asAny(requests.acceptIncomingRequest), request(requestId)],
    ["rejectIncomingRequest", asAny(requests.rejectIncomingRequest), request(requestId)],
    [
      "initiateIdentityDeletionProcess",
      asAny(del.initiateIdentityDeletionProcess),
      request({ lengthOfGracePeriodInDays: [0, 14, -1] }),
    ],
    ["approveIdentityDeletionProcess", asAny(del.approveIdentityDeletionProcess), none],
    ["rejectIdentityDeletionProcess", asAny(del.rejectIdentityDeletionProcess), none],
    ["cancelIdentityDeletionProcess", asAny(del.cancelIdentityDeletionProcess), none],
    [
      "getIdentityDeletionProcess",
      asAny(del.getIdentityDeletionProcess),
      request({ id: [s.ids.process, "IDPAAAAAAAAAAAAAAAAA"] }),
    ],
    ["getIdentityDeletionProcesses", asAny(del.getIdentityDeletionProcesses), none],
    ["getActiveIdentityDeletionProcess", asAny(del.getActiveIdentityDeletionProcess), none],
    ["checkIfIdentityIsDeleted", asAny(del.checkIfIdentityIsDeleted), none],
  ];
}

const RUNS = process.env["IDENTITY_RUNTIME_TEST_STORAGE"] === "postgres" ? 40 : 100;

/** The method names, known before any scene exists, so each gets a test of its own. */
const NAMES = [
  "upsertIdentityMetadata",
  "getIdentityMetadata",
  "deleteIdentityMetadata",
  "createOwnRelationshipTemplate",
  "getRelationshipTemplate",
  "getRelationshipTemplates",
  "canCreateRelationship",
  "createRelationship",
  "acceptRelationship",
  "rejectRelationship",
  "revokeRelationship",
  "terminateRelationship",
  "decomposeRelationship",
  "getRelationship",
  "getRelationships",
  "sendMessage",
  "getMessages",
  "getMessage",
  "canCreateOutgoingRequest",
  "createOutgoingRequest",
  "getRequest",
  "getOutgoingRequests",
  "getIncomingRequests",
  "canAcceptIncomingRequest",
  "canRejectIncomingRequest",
  "acceptIncomingRequest",
  "rejectIncomingRequest",
  "initiateIdentityDeletionProcess",
  "approveIdentityDeletionProcess",
  "rejectIdentityDeletionProcess",
  "cancelIdentityDeletionProcess",
  "getIdentityDeletionProcess",
  "getIdentityDeletionProcesses",
  "getActiveIdentityDeletionProcess",
  "checkIfIdentityIsDeleted",
] as const;

test("the fuzzed methods are every method of every facade", async () => {
  const s = await scene();
  try {
    const facades = [
      s.a.identityMetadata,
      s.a.relationships,
      s.a.messages,
      s.a.requests,
      s.a.identityDeletion,
    ];
    // Every method is an own property: it can be destructured and passed around without binding.
    const all = facades.flatMap((facade) =>
      Object.entries(facade)
        .filter(([, value]) => typeof value === "function")
        .map(([name]) => name),
    );
    expect(all).toHaveLength(NAMES.length);
    expect(
      methods(s)
        .map(([name]) => name)
        .sort(),
    ).toEqual([...all].sort());
    expect([...NAMES].sort()).toEqual([...all].sort());
  } finally {
    await s.close();
  }
});

describe.each(NAMES)("%s, given anything", (name) => {
  test("resolves to a Result, never error.runtime.unknown, and a failure writes nothing to any storage", async () => {
    const s = await scene();
    try {
      const [, call, input] = methods(s).find(([candidate]) => candidate === name) as [
        string,
        Call,
        fc.Arbitrary<unknown>,
      ];
      await fc.assert(
        fc.asyncProperty(input, async (given) => {
          const before = s.writes();
          let result: Outcome;
          try {
            result = await call(s.a, given);
          } catch (error) {
            throw new Error(`${name} threw or rejected`, { cause: error });
          }
          expect(result.ok !== result.err).toBe(true);
          if (result.err) {
            expect(s.writes()).toBe(before);
            // On a storage that works, an unexpected error is a bug: bad input has a precise answer.
            expect(result.val.code).not.toBe("error.runtime.unknown");
          }
        }),
        { numRuns: RUNS },
      );
    } finally {
      await s.close();
    }
  }, 60_000);
});
