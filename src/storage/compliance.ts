import assert from "node:assert/strict";
import { SlotTakenError } from "../core/storage.js";
import type { StorageAdapter, StorageChange, StoredRecord } from "../core/storage.js";

/**
 * One guarantee every StorageAdapter must give, checked on a fresh adapter.
 * @example
 * const complianceCase: StorageComplianceCase = storageAdapterComplianceCases[0];
 * const adapter = myStorage();
 * try {
 *   await complianceCase.run(adapter);
 * } finally {
 *   await adapter.close();
 * }
 */
export interface StorageComplianceCase {
  /** The guarantee, in a sentence: a test's name. */
  readonly name: string;
  /** Checks the guarantee on `adapter` (closing it is the caller's); rejects with an assertion error if it does not hold. */
  run(adapter: StorageAdapter): Promise<void>;
}

/**
 * Makes the adapter a compliance case runs on: a fresh, empty one each call.
 * @example
 * const factory: StorageAdapterFactory = () => lokiStorage();
 * await runStorageAdapterComplianceSuite(factory);
 */
export type StorageAdapterFactory = () => StorageAdapter | Promise<StorageAdapter>;

export const A = "did:e:localhost:dids:aaaaaaaaaaaaaaaaaaaaaa";
export const B = "did:e:localhost:dids:bbbbbbbbbbbbbbbbbbbbbb";
export const C = "did:e:localhost:dids:cccccccccccccccccccccc";

export function record(id: string, extra: Partial<StoredRecord> = {}): StoredRecord {
  return { id, data: JSON.stringify({ name: id }), ...extra };
}

export const put = (collection: string, value: StoredRecord): StorageChange => ({
  kind: "put",
  collection,
  record: value,
});

export async function ids(records: Promise<StoredRecord[]>): Promise<string[]> {
  return (await records).map((stored) => stored.id);
}

async function rejectsWithSlotTaken(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof SlotTakenError);
}

/**
 * The storage guarantees the runtime relies on. Run them all with `runStorageAdapterComplianceSuite`, or one
 * test each: `test.each(storageAdapterComplianceCases)("%s", …)`.
 * @example
 * import { runComplianceCase, storageAdapterComplianceCases } from "identity-runtime/testing";
 * test.each(storageAdapterComplianceCases.map((c) => [c.name, c] as const))("%s", (_name, complianceCase) =>
 *   runComplianceCase(() => myStorage(), complianceCase),
 * );
 */
export const storageAdapterComplianceCases: readonly StorageComplianceCase[] = [
  {
    name: "reads of unknown collections and ids find nothing",
    async run(adapter) {
      assert.equal(await adapter.get("c", "missing"), undefined);
      assert.equal(await adapter.getBySlot("c", "missing"), undefined);
      assert.deepEqual(await adapter.list("c"), []);
      assert.deepEqual(await adapter.listByPeer("c", A), []);
      assert.equal(await adapter.hasPeer("c", A), false);
    },
  },
  {
    name: "a put record reads back exactly, with no fields of the adapter's own",
    async run(adapter) {
      const stored = record("r1", { slot: "s1", peers: [A, B], data: '{"ünïcode":"✓","n":[1,2.5,null]}' });
      await adapter.commit([put("c", stored)]);
      assert.deepStrictEqual(await adapter.get("c", "r1"), stored);
      assert.deepStrictEqual(await adapter.getBySlot("c", "s1"), stored);
      assert.deepStrictEqual(await adapter.list("c"), [stored]);
      const bare = record("r2");
      await adapter.commit([put("c", bare)]);
      assert.deepStrictEqual(await adapter.get("c", "r2"), bare);
    },
  },
  {
    name: "data is stored as the same text, however large",
    async run(adapter) {
      const data = JSON.stringify({ text: "x".repeat(1024 * 1024), emoji: "🦄", quote: '"\\' });
      await adapter.commit([put("c", { id: "big", data })]);
      assert.equal((await adapter.get("c", "big"))?.data, data);
    },
  },
  {
    name: "stored records are isolated from the caller's objects, both ways",
    async run(adapter) {
      const peers = [A];
      const input = { id: "r1", peers, data: "{}" };
      await adapter.commit([put("c", input)]);
      peers.push(B);
      const first = await adapter.get("c", "r1");
      assert.deepEqual(first?.peers, [A]);
      assert.ok(first?.peers !== undefined);
      // Mutating what a read returned must not reach the stored record.
      Array.prototype.push.call(first.peers, C);
      assert.deepEqual((await adapter.get("c", "r1"))?.peers, [A]);
      assert.deepEqual(await ids(adapter.listByPeer("c", B)), []);
    },
  },
  {
    name: "list returns records oldest write first, and a replaced record keeps its place",
    async run(adapter) {
      await adapter.commit([put("c", record("r1")), put("c", record("r2"))]);
      await adapter.commit([put("c", record("r3"))]);
      await adapter.commit([put("c", record("r1", { data: '{"v":2}' }))]);
      assert.deepEqual(await ids(adapter.list("c")), ["r1", "r2", "r3"]);
      assert.equal((await adapter.get("c", "r1"))?.data, '{"v":2}');
    },
  },
  {
    name: "collections are independent",
    async run(adapter) {
      await adapter.commit([
        put("c1", record("r1", { slot: "s", peers: [A] })),
        put("c2", record("r1", { slot: "s" })),
      ]);
      await adapter.commit([{ kind: "deleteByPeer", collection: "c1", peer: A }]);
      assert.equal(await adapter.get("c1", "r1"), undefined);
      assert.equal((await adapter.getBySlot("c2", "s"))?.id, "r1");
    },
  },
  {
    name: "a slot holds at most one record; a conflicting put is refused and changes nothing",
    async run(adapter) {
      await adapter.commit([put("c", record("r1", { slot: "s" }))]);
      await rejectsWithSlotTaken(adapter.commit([put("c", record("r2", { slot: "s" }))]));
      assert.deepEqual(await ids(adapter.list("c")), ["r1"]);
      assert.equal((await adapter.getBySlot("c", "s"))?.id, "r1");
    },
  },
  {
    name: "records without a slot never conflict, and the empty slot is a slot of its own",
    async run(adapter) {
      await adapter.commit([
        put("c", record("r1")),
        put("c", record("r2")),
        put("c", record("r3", { slot: "" })),
      ]);
      assert.equal((await adapter.getBySlot("c", ""))?.id, "r3");
      await rejectsWithSlotTaken(adapter.commit([put("c", record("r4", { slot: "" }))]));
    },
  },
  {
    name: "re-putting a record can move or release its slot",
    async run(adapter) {
      await adapter.commit([put("c", record("r1", { slot: "s" }))]);
      await adapter.commit([put("c", record("r1", { slot: "t" }))]);
      assert.equal(await adapter.getBySlot("c", "s"), undefined);
      await adapter.commit([put("c", record("r1"))]);
      assert.equal(await adapter.getBySlot("c", "t"), undefined);
      await adapter.commit([put("c", record("r2", { slot: "t" }))]);
      assert.equal((await adapter.getBySlot("c", "t"))?.id, "r2");
    },
  },
  {
    name: "upsertBySlot inserts into a free slot and otherwise replaces data and peers, keeping the id",
    async run(adapter) {
      const created = await adapter.upsertBySlot("c", { id: "r1", slot: "s", peers: [A], data: '{"v":1}' });
      assert.deepStrictEqual(created, { id: "r1", slot: "s", peers: [A], data: '{"v":1}' });
      const updated = await adapter.upsertBySlot("c", { id: "r2", slot: "s", peers: [B], data: '{"v":2}' });
      assert.deepStrictEqual(updated, { id: "r1", slot: "s", peers: [B], data: '{"v":2}' });
      assert.deepStrictEqual(await adapter.list("c"), [updated]);
      assert.deepEqual(await ids(adapter.listByPeer("c", A)), []);
      assert.deepEqual(await ids(adapter.listByPeer("c", B)), ["r1"]);
    },
  },
  {
    name: "concurrent upserts on one slot leave exactly one record",
    async run(adapter) {
      const writes = Array.from({ length: 20 }, (_, index) =>
        adapter.upsertBySlot("c", { id: `r${index}`, slot: "s", data: JSON.stringify({ index }) }),
      );
      const results = await Promise.all(writes);
      const stored = await adapter.list("c");
      assert.equal(stored.length, 1);
      assert.ok(results.every((result) => result.id === stored[0]?.id));
    },
  },
  {
    name: "listByPeer finds every record about a peer and follows replacements and deletions",
    async run(adapter) {
      await adapter.commit([
        put("c", record("r1", { peers: [A, B] })),
        put("c", record("r2", { peers: [B] })),
        put("c", record("r3", { peers: [C] })),
      ]);
      assert.deepEqual(await ids(adapter.listByPeer("c", B)), ["r1", "r2"]);
      await adapter.commit([
        put("c", record("r1", { peers: [A] })),
        { kind: "delete", collection: "c", id: "r2" },
      ]);
      assert.deepEqual(await ids(adapter.listByPeer("c", B)), []);
      assert.deepEqual(await ids(adapter.listByPeer("c", A)), ["r1"]);
    },
  },
  {
    name: "hasPeer says whether any record is about a peer, in its collection only, following every change",
    async run(adapter) {
      await adapter.commit([
        put("c", record("r1", { peers: [A, B] })),
        put("c", record("r2", { peers: [B] })),
      ]);
      assert.equal(await adapter.hasPeer("c", B), true);
      assert.equal(await adapter.hasPeer("c", A), true);
      assert.equal(await adapter.hasPeer("c", C), false);
      assert.equal(await adapter.hasPeer("other", B), false);
      await adapter.commit([
        put("c", record("r1", { peers: [A] })),
        { kind: "delete", collection: "c", id: "r2" },
      ]);
      assert.equal(await adapter.hasPeer("c", B), false);
      await adapter.upsertBySlot("c", { id: "r3", slot: "s", peers: [C], data: "{}" });
      assert.equal(await adapter.hasPeer("c", C), true);
      await adapter.commit([{ kind: "deleteByPeer", collection: "c", peer: C }]);
      assert.equal(await adapter.hasPeer("c", C), false);
      await adapter.commit([
        { kind: "deleteBySlot", collection: "c", slot: "none" },
        { kind: "delete", collection: "c", id: "r1" },
      ]);
      assert.equal(await adapter.hasPeer("c", A), false);
    },
  },
  {
    name: "commit reports how many records each change affected",
    async run(adapter) {
      await adapter.commit([
        put("c", record("r1", { slot: "s", peers: [A] })),
        put("c", record("r2", { peers: [A] })),
        put("c", record("r3", { peers: [B] })),
      ]);
      const affected = await adapter.commit([
        { kind: "delete", collection: "c", id: "missing" },
        { kind: "deleteBySlot", collection: "c", slot: "missing" },
        { kind: "deleteByPeer", collection: "c", peer: A },
        { kind: "deleteBySlot", collection: "c", slot: "s" },
        { kind: "delete", collection: "c", id: "r3" },
        put("c", record("r4")),
      ]);
      assert.deepEqual(affected, [0, 0, 2, 0, 1, 1]);
      assert.deepEqual(await ids(adapter.list("c")), ["r4"]);
    },
  },
  {
    name: "thousands of removals and re-insertions keep every lookup, slot and the write order right",
    async run(adapter) {
      const total = 4_000;
      const name = (i: number) => `r${i}`;
      const peerOf = (i: number) => (i % 2 === 0 ? A : B);
      await adapter.commit(
        Array.from({ length: total }, (_, i) =>
          put("c", record(name(i), { slot: `s${i}`, peers: [peerOf(i)] })),
        ),
      );
      const removed = Array.from({ length: total }, (_, i) => i).filter((i) => i % 4 !== 0);
      const affected = await adapter.commit(
        removed.map((i) => ({ kind: "deleteBySlot", collection: "c", slot: `s${i}` })),
      );
      assert.ok(affected.every((count) => count === 1));
      const kept = Array.from({ length: total / 4 }, (_, i) => name(i * 4));
      assert.deepEqual(await ids(adapter.list("c")), kept);
      assert.deepEqual(await ids(adapter.listByPeer("c", A)), kept);
      assert.deepEqual(await ids(adapter.listByPeer("c", B)), []);
      assert.equal(await adapter.get("c", name(1)), undefined);
      assert.equal((await adapter.getBySlot("c", "s4"))?.id, name(4));
      // Freed slots take new records; their order follows the new writes.
      await adapter.commit([put("c", record("again", { slot: "s1", peers: [B] }))]);
      assert.equal((await adapter.getBySlot("c", "s1"))?.id, "again");
      assert.deepEqual(await ids(adapter.listByPeer("c", B)), ["again"]);
      assert.deepEqual((await ids(adapter.list("c"))).at(-1), "again");
    },
  },
  {
    name: "a commit that fails part-way applies none of its changes",
    async run(adapter) {
      await adapter.commit([
        put("c", record("r1", { slot: "s", peers: [A] })),
        put("c", record("r2", { slot: "t", peers: [A] })),
        put("other", record("o1", { peers: [A] })),
      ]);
      const before = { c: await adapter.list("c"), other: await adapter.list("other") };
      await rejectsWithSlotTaken(
        adapter.commit([
          { kind: "deleteByPeer", collection: "other", peer: A },
          { kind: "delete", collection: "c", id: "r1" },
          put("c", record("r2", { slot: "u", data: '{"changed":true}' })),
          put("c", record("r5")),
          put("c", record("r6", { slot: "u" })),
        ]),
      );
      assert.deepStrictEqual(await adapter.list("c"), before.c);
      assert.deepStrictEqual(await adapter.list("other"), before.other);
      assert.equal((await adapter.getBySlot("c", "s"))?.id, "r1");
      assert.equal((await adapter.getBySlot("c", "t"))?.id, "r2");
      assert.equal(await adapter.getBySlot("c", "u"), undefined);
      assert.deepEqual(await ids(adapter.listByPeer("c", A)), ["r1", "r2"]);
    },
  },
  {
    name: "a transaction reads its own commits, and what it committed is there once it resolves",
    async run(adapter) {
      const answer = await adapter.transaction(async (tx) => {
        await tx.commit([put("c", record("r1", { slot: "s", peers: [A] }))]);
        assert.equal((await tx.get("c", "r1"))?.id, "r1");
        assert.equal((await tx.getBySlot("c", "s"))?.id, "r1");
        assert.deepEqual(await ids(tx.listByPeer("c", A)), ["r1"]);
        assert.equal(await tx.hasPeer("c", A), true);
        const upserted = await tx.upsertBySlot("c", { id: "ignored", slot: "s", data: '{"v":2}' });
        assert.equal(upserted.id, "r1");
        return "done";
      });
      assert.equal(answer, "done");
      assert.deepStrictEqual(await adapter.get("c", "r1"), { id: "r1", slot: "s", data: '{"v":2}' });
    },
  },
  {
    name: "a transaction whose work throws writes nothing it committed, and rejects with the work's own error",
    async run(adapter) {
      await adapter.commit([put("c", record("kept", { slot: "k", peers: [A] }))]);
      const thrown = new Error("the work gave up");
      await assert.rejects(
        adapter.transaction(async (tx) => {
          await tx.commit([
            put("c", record("new", { peers: [A] })),
            { kind: "delete", collection: "c", id: "kept" },
          ]);
          await tx.upsertBySlot("c", { id: "other", slot: "u", data: "{}" });
          await tx.commit([{ kind: "deleteByPeer", collection: "c", peer: A }]);
          throw thrown;
        }),
        (error: unknown) => error === thrown,
      );
      assert.deepStrictEqual(await adapter.list("c"), [record("kept", { slot: "k", peers: [A] })]);
      assert.equal(await adapter.getBySlot("c", "u"), undefined);
    },
  },
  {
    name: "a transaction whose work throws restores a record it changed and then removed, as it was",
    async run(adapter) {
      const original = record("a", { slot: "s", peers: [A], data: '"original"' });
      await adapter.commit([put("c", original)]);
      await assert.rejects(
        adapter.transaction(async (tx) => {
          await tx.commit([put("c", record("a", { slot: "s", peers: [B], data: '"changed"' }))]);
          await tx.commit([{ kind: "delete", collection: "c", id: "a" }]);
          await tx.upsertBySlot("c", { id: "x", slot: "s", peers: [C], data: '"again"' });
          await tx.commit([{ kind: "deleteBySlot", collection: "c", slot: "s" }]);
          throw new Error("no");
        }),
      );
      assert.deepStrictEqual(await adapter.get("c", "a"), original);
      assert.deepStrictEqual(await adapter.getBySlot("c", "s"), original);
      assert.deepStrictEqual(await adapter.list("c"), [original]);
      assert.deepEqual(await ids(adapter.listByPeer("c", A)), ["a"]);
      assert.equal(await adapter.hasPeer("c", B), false);
      assert.equal(await adapter.hasPeer("c", C), false);
    },
  },
  {
    name: "a taken slot in a transaction undoes only that commit, and the transaction goes on",
    async run(adapter) {
      await adapter.commit([put("c", record("holder", { slot: "s" }))]);
      await adapter.transaction(async (tx) => {
        await tx.commit([put("c", record("before"))]);
        await rejectsWithSlotTaken(
          tx.commit([put("c", record("loser")), put("c", record("second", { slot: "s" }))]),
        );
        assert.equal(await tx.get("c", "loser"), undefined);
        await tx.commit([put("c", record("after"))]);
      });
      assert.deepEqual(await ids(adapter.list("c")), ["holder", "before", "after"]);
    },
  },
  {
    name: "concurrent transactions that read, then write what they read, lose no update",
    async run(adapter) {
      await adapter.commit([put("c", { id: "counter", data: '{"n":0}' })]);
      await Promise.all(Array.from({ length: 12 }, () => increment(adapter)));
      assert.equal((await adapter.get("c", "counter"))?.data, '{"n":12}');
    },
  },
  {
    name: "no call outside a transaction sees its writes before it ends",
    async run(adapter) {
      let ended = false;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let committed!: () => void;
      const wrote = new Promise<void>((resolve) => (committed = resolve));
      const transaction = adapter.transaction(async (tx) => {
        await tx.commit([put("c", record("r1", { peers: [A] }))]);
        committed();
        await held;
      });
      await wrote;
      const seen = Promise.all([adapter.get("c", "r1"), adapter.hasPeer("c", A)]).then(
        ([found, hasPeer]) => ({
          found,
          hasPeer,
          ended,
        }),
      );
      // Let the reads run (or wait) while the transaction is open.
      await new Promise((resolve) => setTimeout(resolve, 20));
      ended = true;
      release();
      await transaction;
      const outside = await seen;
      if (!outside.ended) {
        assert.equal(outside.found, undefined);
        assert.equal(outside.hasPeer, false);
      }
      assert.equal((await adapter.get("c", "r1"))?.id, "r1");
    },
  },
  {
    name: "a subscriber hears the topic of each committed notify change, and none of a transaction that threw",
    async run(adapter) {
      const heard: (string | undefined)[] = [];
      const unsubscribe = adapter.subscribe((topic) => heard.push(topic));
      const topics = () => heard.filter((topic) => topic !== undefined);
      await adapter.commit([put("c", record("r1")), { kind: "notify", topic: "t1" }]);
      await until(() => topics().includes("t1"));
      await assert.rejects(
        adapter.transaction(async (tx) => {
          await tx.commit([{ kind: "notify", topic: "rolled back" }]);
          throw new Error("no");
        }),
      );
      await adapter.transaction((tx) => tx.commit([{ kind: "notify", topic: "t2" }]));
      await until(() => topics().includes("t2"));
      assert.deepEqual(topics(), ["t1", "t2"]);
      unsubscribe();
      await adapter.commit([{ kind: "notify", topic: "t3" }]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(topics(), ["t1", "t2"]);
    },
  },
];

/** Resolves once `check` holds; fails after `ms` milliseconds. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new assert.AssertionError({ message: `not within ${ms} ms` });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Adds one to the counter record "c/counter" in a transaction (about `scope`, if given): read it, then write
 * what it read plus one.
 */
export async function increment(adapter: StorageAdapter, scope?: readonly string[]): Promise<void> {
  await adapter.transaction(async (tx) => {
    const counter = await tx.get("c", "counter");
    const n = (JSON.parse(counter?.data ?? '{"n":0}') as { n: number }).n;
    // Give a racing transaction time to read the same value.
    await new Promise((resolve) => setTimeout(resolve, 1));
    await tx.commit([put("c", { id: "counter", data: JSON.stringify({ n: n + 1 }) })]);
  }, scope);
}

/**
 * Runs every compliance case, each on a fresh adapter from `factory` (closed afterwards). Resolves with the
 * names of the cases that passed; rejects with an AggregateError naming each case that failed.
 * @example
 * import { runStorageAdapterComplianceSuite } from "identity-runtime/testing";
 * test("my adapter is compliant", () => runStorageAdapterComplianceSuite(() => myAdapter()));
 */
export function runStorageAdapterComplianceSuite(factory: StorageAdapterFactory): Promise<string[]> {
  return runEach("storage compliance", storageAdapterComplianceCases, (complianceCase) =>
    runComplianceCase(factory, complianceCase),
  );
}

/**
 * Runs every case, whatever fails: resolves with the names of the cases that passed, or rejects with an
 * AggregateError naming each case that failed (its error as the cause).
 */
export async function runEach<C extends { readonly name: string }>(
  suite: string,
  cases: readonly C[],
  run: (each: C) => Promise<void>,
): Promise<string[]> {
  const passed: string[] = [];
  const failures: Error[] = [];
  for (const each of cases) {
    try {
      await run(each);
      passed.push(each.name);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      failures.push(new Error(`${each.name}: ${detail}`, { cause: error }));
    }
  }
  if (failures.length > 0) {
    const list = failures.map((failure) => failure.message).join("\n");
    throw new AggregateError(failures, `${failures.length} ${suite} case(s) failed:\n${list}`);
  }
  return passed;
}

/**
 * Runs one case on a fresh adapter and closes it, whatever happens.
 * @example
 * import { runComplianceCase, storageAdapterComplianceCases } from "identity-runtime/testing";
 * for (const complianceCase of storageAdapterComplianceCases) {
 *   test(complianceCase.name, () => runComplianceCase(() => myStorage(), complianceCase));
 * }
 */
export async function runComplianceCase(
  factory: StorageAdapterFactory,
  complianceCase: StorageComplianceCase,
): Promise<void> {
  const adapter = await factory();
  try {
    await complianceCase.run(adapter);
  } finally {
    await adapter.close();
  }
}
