import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import {
  createRuntime,
  LocalBackbone,
  lokiStorage,
  ManualClock,
  postgresStorage,
  sqliteStorage,
} from "../src/index";
import type {
  ErrorCode,
  EventName,
  Result,
  Runtime,
  RuntimeEvent,
  RuntimeOptions,
  StorageAdapter,
  StorageOperations,
} from "../src/index";

/**
 * The error codes the tests compare with, by a short name. `satisfies` makes the compiler check every one is a
 * code of the library, so a test can never pass by comparing with a misspelt code.
 */
export const CODE = {
  activeIdentityDeletionProcessAlreadyExists:
    "error.runtime.identityDeletionProcess.activeIdentityDeletionProcessAlreadyExists",
  cannotAcceptOrRejectRelationshipCreatedByYourself:
    "error.runtime.relationships.cannotAcceptOrRejectRelationshipCreatedByYourself",
  cannotCreateRelationshipWithYourself: "error.transport.relationships.cannotCreateRelationshipWithYourself",
  cannotRevokeRelationshipCreatedByOthers:
    "error.runtime.relationships.cannotRevokeRelationshipCreatedByOthers",
  identityDeleted: "error.runtime.identityDeleted",
  identityMetadataNotFound: "error.runtime.identityMetadata.notFound",
  identityNotDeleted: "error.runtime.identityNotDeleted",
  invalidPropertyValue: "error.runtime.validation.invalidPropertyValue",
  messagesHasNeitherActiveNorTerminatedRelationship:
    "error.transport.messages.hasNeitherActiveNorTerminatedRelationship",
  messagesHasNoActiveRelationship: "error.runtime.messages.hasNoActiveRelationship",
  messagesPeerIsDeleted: "error.transport.messages.peerIsDeleted",
  messagesPeerIsInDeletion: "error.runtime.messages.peerIsInDeletion",
  noActiveIdentityDeletionProcess: "error.runtime.identityDeletionProcess.noActiveIdentityDeletionProcess",
  noApprovedIdentityDeletionProcess:
    "error.runtime.identityDeletionProcess.noApprovedIdentityDeletionProcess",
  noWaitingForApprovalIdentityDeletionProcess:
    "error.runtime.identityDeletionProcess.noWaitingForApprovalIdentityDeletionProcess",
  recordNotFound: "error.runtime.recordNotFound",
  relationshipCurrentlyExists: "error.transport.relationships.relationshipCurrentlyExists",
  relationshipTemplateAllocationsExhausted:
    "error.transport.relationships.relationshipTemplateAllocationsExhausted",
  relationshipTemplateExpired: "error.transport.relationships.relationshipTemplateExpired",
  relationshipsWrongRelationshipStatus: "error.transport.relationships.wrongRelationshipStatus",
  requestsMissingRelationship: "error.consumption.requests.missingRelationship",
  requestsPeerIsDeleted: "error.consumption.requests.peerIsDeleted",
  requestsPeerIsInDeletion: "error.consumption.requests.peerIsInDeletion",
  requestsWrongRelationshipStatus: "error.consumption.requests.wrongRelationshipStatus",
  requestsWrongRequestStatus: "error.consumption.requests.wrongRequestStatus",
  runtimeClosed: "error.runtime.runtimeClosed",
  unfamiliarReferencedIdentity: "error.runtime.identityMetadata.unfamiliarReferencedIdentity",
} as const satisfies Record<string, ErrorCode>;

export const START = new Date("2030-01-01T00:00:00.000Z");

/**
 * The storage the test worlds run on: `IDENTITY_RUNTIME_TEST_STORAGE` = loki (default), sqlite or postgres (with
 * `DATABASE_URL`). `npm test` runs the suites once on each (see tests/run-suite.mjs).
 */
export const TEST_STORAGE = process.env["IDENTITY_RUNTIME_TEST_STORAGE"] ?? "loki";

/** A fresh, empty storage of the kind the suite runs on, and how to get rid of it afterwards. */
export function testStorage(): { storage: StorageAdapter; dispose: () => Promise<void> } {
  switch (TEST_STORAGE) {
    case "loki": {
      const storage = lokiStorage();
      return { storage, dispose: () => storage.close() };
    }
    case "sqlite": {
      const directory = mkdtempSync(join(tmpdir(), "identity-runtime-test-"));
      const storage = sqliteStorage({ filename: join(directory, "test.db") });
      return {
        storage,
        dispose: async () => {
          await storage.close();
          rmSync(directory, { recursive: true, force: true });
        },
      };
    }
    case "postgres": {
      const connectionString = process.env["DATABASE_URL"];
      if (connectionString === undefined)
        throw new Error("IDENTITY_RUNTIME_TEST_STORAGE=postgres needs DATABASE_URL");
      const schema = `test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
      const storage = postgresStorage({ connectionString, schema });
      return {
        storage,
        dispose: async () => {
          await storage.close();
          const client = new Client({ connectionString });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await client.end();
        },
      };
    }
    default:
      throw new Error(
        `IDENTITY_RUNTIME_TEST_STORAGE=${TEST_STORAGE} is not a storage (loki, sqlite, postgres)`,
      );
  }
}

/**
 * A LocalBackbone on a ManualClock, and helpers to make runtimes on it that close after the test. The Backbone
 * and every runtime get a fresh storage of their own, of the kind the suite runs on.
 */
export function world(options: { backbone?: ConstructorParameters<typeof LocalBackbone>[0] } = {}) {
  const clock = new ManualClock(START);
  const storages: (() => Promise<void>)[] = [];
  const fresh = (): StorageAdapter => {
    const { storage, dispose } = testStorage();
    storages.push(dispose);
    return storage;
  };
  const backbone = new LocalBackbone({ clock, storage: fresh(), ...options.backbone });
  const runtimes: Runtime[] = [];

  async function runtime(runtimeOptions: Omit<RuntimeOptions, "backbone"> = {}): Promise<Runtime> {
    const created = await createRuntime({ backbone, storage: fresh(), ...runtimeOptions });
    runtimes.push(created);
    return created;
  }

  /** Two runtimes with a relationship created by `b` from `a`'s template, and accepted unless `pending`. */
  async function connected(pending = false) {
    const a = await runtime();
    const b = await runtime();
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    let relationship = ok(await b.relationships.createRelationship({ templateId: template.id }));
    if (!pending) ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
    relationship = ok(await b.relationships.getRelationship({ id: relationship.id }));
    return { a, b, relationshipId: relationship.id, templateId: template.id };
  }

  async function close(): Promise<void> {
    await Promise.all(runtimes.map((r) => r.close()));
    await backbone.close();
    await Promise.all(storages.map((dispose) => dispose()));
  }

  return { clock, backbone, runtime, connected, close };
}

export type World = ReturnType<typeof world>;

/**
 * A fresh world for every test of the file, closed after it. The returned object always refers to the
 * current test's world.
 */
export function worldPerTest(): World {
  let current: World | undefined;
  beforeEach(() => {
    current = world();
  });
  afterEach(() => current?.close());
  return new Proxy({} as World, {
    get: (_target, key: keyof World) => {
      if (current === undefined) throw new Error("worldPerTest(): used outside a test");
      return current[key];
    },
  });
}

/** The value of an Ok result; fails the test with the error otherwise. */
export function ok<T, E>(result: Result<T, E>): T {
  if (result.err) throw new Error(`expected Ok, got Err ${JSON.stringify(result.val)}`);
  return result.val;
}

/** The error of an Err result; fails the test otherwise. */
export function err<T, E>(result: Result<T, E>): E {
  if (result.ok) throw new Error(`expected Err, got Ok ${JSON.stringify(result.val)}`);
  return result.val;
}

/** Records every event of the given names a runtime publishes, in order. */
export function recordEvents<N extends EventName>(runtime: Runtime, ...names: N[]): RuntimeEvent<N>[] {
  const seen: RuntimeEvent<N>[] = [];
  for (const name of names) runtime.events.on(name, (event) => void seen.push(event));
  return seen;
}

export const UNKNOWN_ADDRESS = "did:e:localhost:dids:0123456789abcdef012345";

/** Resolves after `ms` milliseconds of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * An adapter that does what `inner` does, except for the operations `override` gives: the base of every
 * fault-injecting test storage. `override` is asked for the adapter itself and for each transaction, with
 * what the operations are to call through (`target`), so that writes inside transactions are seen too.
 */
export function delegating(
  inner: StorageAdapter,
  override: (target: StorageOperations) => Partial<StorageOperations> = () => ({}),
): StorageAdapter {
  const over = (target: StorageOperations): StorageOperations => ({
    get: (collection, id) => target.get(collection, id),
    getBySlot: (collection, slot) => target.getBySlot(collection, slot),
    list: (collection) => target.list(collection),
    listByPeer: (collection, peer) => target.listByPeer(collection, peer),
    hasPeer: (collection, peer) => target.hasPeer(collection, peer),
    upsertBySlot: (collection, record) => target.upsertBySlot(collection, record),
    commit: (changes) => target.commit(changes),
    ...override(target),
  });
  return {
    ...over(inner),
    transaction: (work, scope) => inner.transaction((tx) => work(over(tx)), scope),
    subscribe: (listener) => inner.subscribe(listener),
    close: () => inner.close(),
  };
}

/**
 * Wraps a storage adapter so that every call does its work at once but resolves only after a delay of real
 * time, like a database across a network: callers that await storage interleave as they would in production.
 * `delayMs` is a number of milliseconds, or a function choosing it per call (0: no delay).
 */
export function slowStorage(
  inner: StorageAdapter,
  delayMs: number | ((method: keyof StorageOperations, args: readonly unknown[]) => number) = 2,
): StorageAdapter {
  const slow = async <T>(
    method: keyof StorageOperations,
    args: unknown[],
    call: () => Promise<T>,
  ): Promise<T> => {
    const ms = typeof delayMs === "number" ? delayMs : delayMs(method, args);
    if (ms <= 0) return call();
    const [value] = await Promise.all([call(), sleep(ms)]);
    return value;
  };
  return delegating(inner, (target) => ({
    get: (...args) => slow("get", args, () => target.get(...args)),
    getBySlot: (...args) => slow("getBySlot", args, () => target.getBySlot(...args)),
    list: (...args) => slow("list", args, () => target.list(...args)),
    listByPeer: (...args) => slow("listByPeer", args, () => target.listByPeer(...args)),
    hasPeer: (...args) => slow("hasPeer", args, () => target.hasPeer(...args)),
    upsertBySlot: (...args) => slow("upsertBySlot", args, () => target.upsertBySlot(...args)),
    commit: (...args) => slow("commit", args, () => target.commit(...args)),
  }));
}
