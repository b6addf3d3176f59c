// The part of the compliance suite for durable adapters (SQLite, PostgreSQL, yours): what survives a reopen,
// what a newer schema gets, what close() does. Exported from "identity-runtime/testing" with the common part.
import assert from "node:assert/strict";
import type { StorageAdapter, StorageChange } from "../core/storage.js";
import { A, B, C, ids, increment, put, record, runEach, until } from "./compliance.js";

/**
 * A durable adapter's location, opened as often as a case needs: the same database every time (a file, a
 * schema), so that a case can close an adapter and open another on what it left.
 * @example
 * const filename = join(mkdtempSync(join(tmpdir(), "db-")), "test.db");
 * const location: DurableStorage = {
 *   open: () => sqliteStorage({ filename }),
 *   markSchemaNewer: async () => setMySchemaVersion(filename, 999),
 * };
 */
export interface DurableStorage {
  /** A new adapter on the location's database; a case may have several open at once. */
  open(): StorageAdapter | Promise<StorageAdapter>;
  /** Records a schema version newer than any this package writes, as a future version would leave it. */
  markSchemaNewer(): Promise<void>;
}

/**
 * One guarantee of a durable adapter, checked on a fresh location.
 * @example
 * for (const durableCase of durableStorageComplianceCases) {
 *   test(durableCase.name, () => durableCase.run(freshLocation()));
 * }
 */
export interface DurableStorageComplianceCase {
  /** The guarantee, in a sentence: a test's name. */
  readonly name: string;
  /** Checks the guarantee, opening (and closing) adapters on `location`; rejects if it does not hold. */
  run(location: DurableStorage): Promise<void>;
}

/** What the durable cases write and expect to read back after a reopen. */
const KEPT: readonly StorageChange[] = [
  put("c", record("r1", { slot: "s1", peers: [A, B], data: '{"n":1}' })),
  put("c", record("r2", { peers: [B] })),
  put("other", record("r1", { slot: "" })),
];

function aboutScope(scope: readonly string[] | undefined): string {
  return scope === undefined ? "" : `, in transactions about ${JSON.stringify(scope)}`;
}

async function withAdapter<T>(
  location: DurableStorage,
  work: (adapter: StorageAdapter) => Promise<T>,
): Promise<T> {
  const adapter = await location.open();
  try {
    return await work(adapter);
  } finally {
    await adapter.close();
  }
}

async function rejectsWithStorageFailure(promise: Promise<unknown>, message?: RegExp): Promise<void> {
  await assert.rejects(
    promise,
    (error: unknown) =>
      error instanceof Error &&
      error.name === "StorageFailure" &&
      (message === undefined || message.test(error.message)),
  );
}

/**
 * The guarantees a durable adapter gives beyond the common ones: what it acknowledged is there after a reopen,
 * a database of a newer version is refused and left as it is, and `close()` ends its use.
 * @example
 * import { durableStorageComplianceCases } from "identity-runtime/testing";
 * test.each(durableStorageComplianceCases.map((c) => [c.name, c] as const))("%s", (_name, durableCase) => {
 *   const location = freshLocation();
 *   return durableCase.run({
 *     open: () => myStorage(location),
 *     markSchemaNewer: () => setMySchemaVersion(location, 999),
 *   });
 * });
 */
export const durableStorageComplianceCases: readonly DurableStorageComplianceCase[] = [
  {
    name: "a reopened adapter reads exactly what the closed one wrote: records, slots, peers and order",
    async run(location) {
      await withAdapter(location, async (adapter) => {
        await adapter.commit(KEPT);
        await adapter.upsertBySlot("c", { id: "ignored", slot: "s1", peers: [C], data: '{"n":2}' });
      });
      await withAdapter(location, async (adapter) => {
        const first = { id: "r1", slot: "s1", peers: [C], data: '{"n":2}' };
        assert.deepStrictEqual(await adapter.list("c"), [first, record("r2", { peers: [B] })]);
        assert.deepStrictEqual(await adapter.getBySlot("c", "s1"), first);
        assert.deepStrictEqual(await ids(adapter.listByPeer("c", B)), ["r2"]);
        assert.equal(await adapter.hasPeer("c", C), true);
        assert.deepStrictEqual(await adapter.getBySlot("other", ""), record("r1", { slot: "" }));
      });
    },
  },
  {
    name: "a database of a newer schema version is refused with StorageFailure, and left as it is",
    async run(location) {
      await withAdapter(location, (adapter) => adapter.commit(KEPT));
      await location.markSchemaNewer();
      await withAdapter(location, async (adapter) => {
        const newer = /newer version of identity-runtime/;
        await rejectsWithStorageFailure(adapter.get("c", "r1"), newer);
        await rejectsWithStorageFailure(adapter.list("c"), newer);
        await rejectsWithStorageFailure(
          adapter.commit([{ kind: "delete", collection: "c", id: "r1" }]),
          newer,
        );
        await rejectsWithStorageFailure(
          adapter.upsertBySlot("c", { id: "x", slot: "s9", data: "{}" }),
          newer,
        );
      });
    },
  },
  {
    name: "after close() every call rejects with StorageFailure, a second close() is harmless, nothing is lost",
    async run(location) {
      const adapter = await location.open();
      await adapter.commit(KEPT);
      await adapter.close();
      await rejectsWithStorageFailure(adapter.list("c"));
      await rejectsWithStorageFailure(adapter.commit([put("c", record("late"))]));
      await adapter.close();
      await withAdapter(location, async (reopened) => {
        assert.deepStrictEqual(await ids(reopened.list("c")), ["r1", "r2"]);
      });
    },
  },
  ...[undefined, ["counter"]].map((scope) => ({
    name: `transactions of two adapters on one database lose no update${aboutScope(scope)}`,
    async run(location: DurableStorage) {
      await withAdapters(location, async (first, second) => {
        await first.commit([put("c", { id: "counter", data: '{"n":0}' })]);
        await Promise.all(
          Array.from({ length: 8 }, (_, i) => increment(i % 2 === 0 ? first : second, scope)),
        );
        assert.equal((await second.get("c", "counter"))?.data, '{"n":8}');
      });
    },
  })),
  ...[undefined, [A], [B, A]].map((scope) => ({
    name: `a check and the write it guards hold across two adapters on one database (no write skew)${aboutScope(scope)}`,
    async run(location: DurableStorage) {
      await withAdapters(location, async (first, second) => {
        // "At most one record about A", written by transactions that each check there is none first.
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 === 0 ? first : second).transaction(
              async (tx) => {
                if (await tx.hasPeer("c", A)) return false;
                await new Promise((resolve) => setTimeout(resolve, 1));
                await tx.commit([put("c", record(`r${i}`, { peers: [A] }))]);
                return true;
              },
              // Scopes that share a name, in different orders.
              i % 2 === 0 ? scope : scope && [...scope].reverse(),
            ),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal((await first.listByPeer("c", A)).length, 1);
      });
    },
  })),
  {
    name: "a subscriber of one adapter hears the notify changes another adapter on the database commits",
    async run(location) {
      await withAdapters(location, async (first, second) => {
        const heard: (string | undefined)[] = [];
        const unsubscribe = first.subscribe((topic) => heard.push(topic));
        try {
          // Until the first adapter hears anything, its subscription may still be starting.
          await second.commit([{ kind: "notify", topic: "warm-up" }]);
          await until(() => heard.length > 0);
          // What it hears of the second adapter: the topic, or `undefined` where the database can only tell
          // that something changed. Either way it must hear of it, every time.
          for (const topic of ["t1", "t2", "t3"]) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            heard.length = 0;
            await second.commit([put("c", record(topic)), { kind: "notify", topic }]);
            await until(() => heard.includes(topic) || heard.includes(undefined));
          }
        } finally {
          unsubscribe();
        }
      });
    },
  },
];

/** Two adapters on the same database, both closed afterwards. */
async function withAdapters<T>(
  location: DurableStorage,
  work: (first: StorageAdapter, second: StorageAdapter) => Promise<T>,
): Promise<T> {
  return withAdapter(location, (first) => withAdapter(location, (second) => work(first, second)));
}

/**
 * Runs every durable case, each on a fresh location from `locate`; resolves with the names of the cases that
 * passed, or rejects with an AggregateError of the failures.
 * @example
 * await runDurableStorageComplianceSuite(() => {
 *   const filename = join(mkdtempSync(join(tmpdir(), "db-")), "test.db");
 *   return { open: () => sqliteStorage({ filename }), markSchemaNewer: async () => { … } };
 * });
 */
export function runDurableStorageComplianceSuite(
  locate: () => DurableStorage | Promise<DurableStorage>,
): Promise<string[]> {
  return runEach("durable storage compliance", durableStorageComplianceCases, async (durableCase) =>
    durableCase.run(await locate()),
  );
}
