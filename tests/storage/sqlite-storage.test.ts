import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import { createRuntime, LocalBackbone, ManualClock, sqliteStorage, StorageFailure } from "../../src/index";
import type { IdentityMetadataSlotRequest, Runtime, RuntimeResult, StorageAdapter } from "../../src/index";
import {
  durableStorageComplianceCases,
  runComplianceCase,
  storageAdapterComplianceCases,
} from "../../src/testing";
import { err, ok, sleep } from "../support";

const ROOT = join(__dirname, "..", "..");
const START = new Date("2030-01-01T00:00:00.000Z");

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "identity-runtime-sqlite-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh directory for one database, inside this file's scratch directory (removed after the file). */
const freshDirectory = (): string => mkdtempSync(join(scratch, "db-"));

/** Everything a database file holds, read with better-sqlite3 directly. */
function dump(filename: string): unknown {
  const db = new Database(filename);
  try {
    return {
      schema: db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all(),
      meta: db.prepare("SELECT * FROM identity_runtime_meta ORDER BY key").all(),
      records: db.prepare("SELECT * FROM identity_runtime_records ORDER BY seq").all(),
      peers: db.prepare("SELECT * FROM identity_runtime_record_peers ORDER BY collection, id, peer").all(),
    };
  } finally {
    db.close();
  }
}

describe("sqliteStorage passes the durable part of the compliance suite", () => {
  test.each(durableStorageComplianceCases.map((c) => [c.name, c] as const))(
    "%s",
    async (_name, durableCase) => {
      const filename = join(freshDirectory(), "durable.db");
      await durableCase.run({
        open: () => sqliteStorage({ filename }),
        markSchemaNewer: () => {
          const db = new Database(filename);
          db.prepare("UPDATE identity_runtime_meta SET value = '999' WHERE key = 'schema_version'").run();
          db.close();
          return Promise.resolve();
        },
      });
    },
  );
});

describe("sqliteStorage on a better-sqlite3 database of the caller's", () => {
  test("passes the compliance suite, and close() leaves the database open for its owner", async () => {
    for (const complianceCase of storageAdapterComplianceCases) {
      const database = new Database(join(freshDirectory(), "given.db"));
      await runComplianceCase(() => sqliteStorage({ database }), complianceCase);
      expect(database.open).toBe(true);
      expect(database.pragma("journal_mode", { simple: true })).toBe("wal");
      database.close();
    }
  });
});

describe("sqliteStorage passes the storage compliance suite", () => {
  test.each(storageAdapterComplianceCases.map((c) => [c.name, c] as const))(
    "%s",
    async (_name, complianceCase) => {
      await runComplianceCase(
        () => sqliteStorage({ filename: join(freshDirectory(), "compliance.db") }),
        complianceCase,
      );
    },
  );
});

test("a runtime and its LocalBackbone reopen from their files with byte-for-byte equal DTOs", async () => {
  const directory = freshDirectory();
  const files = { runtime: join(directory, "runtime.db"), backbone: join(directory, "backbone.db") };
  const clock = new ManualClock(START);
  const storage = sqliteStorage({ filename: files.runtime });
  const backboneStorage = sqliteStorage({ filename: files.backbone });
  const backbone = new LocalBackbone({ storage: backboneStorage, clock });
  const alice = await createRuntime({ backbone, storage });
  const bob = await createRuntime({ backbone });

  const template = ok(await alice.relationships.createOwnRelationshipTemplate());
  const pending = ok(await bob.relationships.createRelationship({ templateId: template.id }));
  ok(await alice.relationships.acceptRelationship({ relationshipId: pending.id }));
  const slots: (IdentityMetadataSlotRequest & { value: unknown })[] = [
    { reference: alice.address, key: "", value: null },
    { reference: alice.address, value: { nested: { list: [1, 2.5, "three", null, { deep: true }] } } },
    { reference: alice.address, key: "note", value: 'ünïcode ✓ 🦄 "quoted" \\' },
    { reference: bob.address, key: "crm", value: { id: 42, tags: [] } },
    { reference: bob.address, value: [false, 0, ""] },
  ];
  for (const slot of slots) ok(await alice.identityMetadata.upsertIdentityMetadata(slot));
  clock.advance({ hours: 1 });
  ok(await alice.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 7 }));

  const snapshot = async (runtime: Runtime) => ({
    metadata: await Promise.all(
      slots.map(async ({ value: _value, ...slot }) =>
        ok(await runtime.identityMetadata.getIdentityMetadata(slot)),
      ),
    ),
    relationships: ok(await runtime.relationships.getRelationships()),
    processes: ok(await runtime.identityDeletion.getIdentityDeletionProcesses()),
    active: ok(await runtime.identityDeletion.getActiveIdentityDeletionProcess()),
  });
  const before = await snapshot(alice);
  expect(before.relationships).toHaveLength(1);
  expect(before.processes).toHaveLength(1);
  await Promise.all([alice.close(), bob.close()]);
  await backbone.close();
  await Promise.all([storage.close(), backboneStorage.close()]);

  const reopenedStorage = sqliteStorage({ filename: files.runtime });
  const reopenedBackboneStorage = sqliteStorage({ filename: files.backbone });
  const reopenedBackbone = new LocalBackbone({ storage: reopenedBackboneStorage, clock });
  const reopened = await createRuntime({ backbone: reopenedBackbone, storage: reopenedStorage });
  try {
    expect(reopened.address).toBe(alice.address);
    const after = await snapshot(reopened);
    expect(after).toStrictEqual(before);
    const dtos = (s: typeof before) => [...s.metadata, ...s.relationships, ...s.processes, s.active];
    const text = (s: typeof before) => dtos(s).map((dto) => JSON.stringify(dto));
    expect(text(after)).toEqual(text(before));
  } finally {
    await reopened.close();
    await reopenedBackbone.close();
    await Promise.all([reopenedStorage.close(), reopenedBackboneStorage.close()]);
  }
});

describe("group commit", () => {
  test("a write waiting for another process's lock holds no read up, and is written once the lock is free", async () => {
    const filename = join(freshDirectory(), "locked.db");
    const storage = sqliteStorage({ filename });
    await storage.commit([{ kind: "put", collection: "c", record: { id: "before", data: "{}" } }]);
    const holder = new Database(filename);
    holder.exec("BEGIN IMMEDIATE");
    try {
      let written = false;
      const writing = storage.commit([{ kind: "put", collection: "c", record: { id: "after", data: "{}" } }]);
      void writing.then(() => (written = true));
      // Let the write begin waiting for the lock (it retries every few milliseconds).
      await sleep(30);
      // The read answers while the write still waits: it sees what was committed.
      expect((await storage.list("c")).map((record) => record.id)).toStrictEqual(["before"]);
      expect(written).toBe(false);
      holder.exec("COMMIT");
      await expect(writing).resolves.toStrictEqual([1]);
      expect((await storage.list("c")).map((record) => record.id)).toStrictEqual(["before", "after"]);
    } finally {
      if (holder.inTransaction) holder.exec("ROLLBACK");
      holder.close();
      await storage.close();
    }
  });

  test("writes made side by side are written together, each all or nothing: a taken slot fails only its own", async () => {
    const storage = sqliteStorage({ filename: join(freshDirectory(), "group.db") });
    try {
      await storage.commit([
        { kind: "put", collection: "c", record: { id: "holder", slot: "s", data: "{}" } },
      ]);
      const outcomes = await Promise.allSettled([
        storage.commit([{ kind: "put", collection: "c", record: { id: "a", data: "{}" } }]),
        storage.commit([
          { kind: "put", collection: "c", record: { id: "b", data: "{}" } },
          { kind: "put", collection: "c", record: { id: "thief", slot: "s", data: "{}" } },
        ]),
        storage.upsertBySlot("c", { id: "u", slot: "t", data: "{}" }),
        storage.transaction(async (tx) =>
          tx.commit([{ kind: "put", collection: "c", record: { id: "tx", data: "{}" } }]),
        ),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toStrictEqual([
        "fulfilled",
        "rejected",
        "fulfilled",
        "fulfilled",
      ]);
      expect((await storage.list("c")).map((record) => record.id).sort()).toStrictEqual([
        "a",
        "holder",
        "tx",
        "u",
      ]);
    } finally {
      await storage.close();
    }
  });
});

describe("a crash loses no acknowledged write", () => {
  const CHILD = join(__dirname, "crash-child.ts");
  const RUNS = 5;

  interface CrashRun {
    address: string | undefined;
    acked: number[];
  }

  /**
   * Runs crash-child.ts on `filename` and kills it with SIGKILL 150–600 ms after its first acknowledged write
   * (from its start, tsx's start-up would take most runs before any write).
   */
  function crashRun(filename: string, first: number): Promise<CrashRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, filename, String(first)], {
        cwd: ROOT,
        env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, "tsconfig.run.json") },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const run: CrashRun = { address: undefined, acked: [] };
      let stderr = "";
      let kill: NodeJS.Timeout | undefined;
      const giveUp = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (chunk: string) => (stderr += chunk));
      createInterface({ input: child.stdout }).on("line", (line) => {
        const [word, value] = line.split(" ");
        if (word === "address") run.address = value;
        if (word !== "ack") return;
        run.acked.push(Number(value));
        kill ??= setTimeout(() => child.kill("SIGKILL"), 150 + Math.random() * 450);
      });
      // "close", not "exit": every line the child wrote has been read by then.
      child.once("close", (code, signal) => {
        clearTimeout(giveUp);
        clearTimeout(kill);
        if (signal === "SIGKILL" && kill !== undefined) resolve(run);
        else reject(new Error(`the child ended with ${code ?? signal} before it was killed\n${stderr}`));
      });
    });
  }

  test(`${RUNS} runs killed with SIGKILL mid-write: every acknowledged upsert is there after reopening`, async () => {
    const filename = join(freshDirectory(), "crash.db");
    const acked: number[] = [];
    let address: string | undefined;
    for (let run = 0; run < RUNS; run++) {
      const result = await crashRun(filename, run * 1_000_000);
      expect(result.acked.length).toBeGreaterThan(0);
      // The same identity on every run: each child reopened what the file held.
      address ??= result.address;
      expect(result.address).toBe(address);
      acked.push(...result.acked);

      const storage = sqliteStorage({ filename });
      const backbone = new LocalBackbone({ storage, runsDueJobsItself: false });
      const runtime = await createRuntime({ backbone, storage });
      try {
        expect(runtime.address).toBe(address);
        const lost: number[] = [];
        for (const i of acked) {
          const found = await runtime.identityMetadata.getIdentityMetadata({
            reference: runtime.address,
            key: `k${i}`,
          });
          if (found.err || JSON.stringify(found.val.value) !== JSON.stringify({ i })) lost.push(i);
        }
        expect(lost).toEqual([]);
      } finally {
        await runtime.close();
        await backbone.close();
        await storage.close();
      }
    }
    console.info(`crash test: ${RUNS} SIGKILLed runs, ${acked.length} acknowledged upserts checked, 0 lost`);
  }, 60_000);
});

test("a database written by a newer identity-runtime is refused with error.runtime.storage and left as it was", async () => {
  const directory = freshDirectory();
  const filename = join(directory, "runtime.db");
  const storage = sqliteStorage({ filename });
  const backboneStorage = sqliteStorage({ filename: join(directory, "backbone.db") });
  const backbone = new LocalBackbone({ storage: backboneStorage, clock: new ManualClock(START) });
  const runtime = await createRuntime({ backbone, storage });
  const reference = runtime.address;
  ok(await runtime.identityMetadata.upsertIdentityMetadata({ reference, key: "k", value: 1 }));

  // A newer version upgrades the file (another process sharing it, say) while this runtime has it open.
  const newer = new Database(filename);
  newer.prepare("UPDATE identity_runtime_meta SET value = '999' WHERE key = 'schema_version'").run();
  newer.close();
  const upgraded = dump(filename);
  try {
    for (const result of [
      await runtime.identityMetadata.upsertIdentityMetadata({ reference, key: "k", value: 2 }),
      await runtime.identityMetadata.upsertIdentityMetadata({ reference, key: "new", value: 3 }),
      await runtime.identityMetadata.getIdentityMetadata({ reference, key: "k" }),
    ]) {
      const error = err(result);
      expect(error.code).toBe("error.runtime.storage");
      expect(error.message).toContain("newer version of identity-runtime");
    }
    expect(dump(filename)).toEqual(upgraded);
  } finally {
    await runtime.close();
    await storage.close();
  }

  // Opened afresh, it is refused from the first call, and opening changes nothing either.
  const reopened = sqliteStorage({ filename });
  await expect(reopened.list("runtime/identities")).rejects.toThrow(StorageFailure);
  await expect(createRuntime({ backbone, storage: reopened })).rejects.toThrow(
    /newer version of identity-runtime/,
  );
  expect(dump(filename)).toEqual(upgraded);
  await reopened.close();
  await backbone.close();
  await backboneStorage.close();
});

describe("failures of the database are StorageFailures, and error.runtime.storage from facades", () => {
  test("a file that cannot be opened rejects every call, until it can be", async () => {
    const filename = join(freshDirectory(), "missing", "runtime.db");
    const storage: StorageAdapter = sqliteStorage({ filename });
    const failure: unknown = await storage.get("c", "r1").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StorageFailure);
    expect((failure as StorageFailure).message).toContain(filename);
    expect((failure as StorageFailure).cause).toBeDefined();
    await expect(storage.commit([{ kind: "delete", collection: "c", id: "r1" }])).rejects.toThrow(
      StorageFailure,
    );
    await expect(createRuntime({ storage })).rejects.toThrow(StorageFailure);
    expect(existsSync(dirname(filename))).toBe(false);

    // A failed open is not remembered: once the directory exists, the next call opens the file.
    mkdirSync(dirname(filename));
    expect(await storage.list("c")).toEqual([]);
    await storage.close();
  });

  test("a facade call on a storage that fails resolves to error.runtime.storage, it never rejects", async () => {
    const storage = sqliteStorage({ filename: join(freshDirectory(), "runtime.db") });
    const runtime = await createRuntime({ storage });
    const reference = runtime.address;
    await storage.close();
    const calls: Promise<RuntimeResult<unknown>>[] = [
      runtime.identityMetadata.upsertIdentityMetadata({ reference, key: "k", value: 1 }),
      runtime.identityMetadata.getIdentityMetadata({ reference, key: "k" }),
      runtime.relationships.getRelationships(),
    ];
    for (const result of await Promise.all(calls)) {
      expect(err(result).code).toBe("error.runtime.storage");
      expect(err(result).message).toContain("has been closed");
    }
    await runtime.close();
  });
});

test("a file in rollback-journal mode written by a newer version is refused without changing a byte of it", async () => {
  const directory = freshDirectory();
  const filename = join(directory, "newer.db");
  const newer = new Database(filename);
  newer.pragma("journal_mode = DELETE");
  newer.exec("CREATE TABLE identity_runtime_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  newer.prepare("INSERT INTO identity_runtime_meta (key, value) VALUES ('schema_version', '2')").run();
  newer.close();
  const before = readFileSync(filename);
  const storage = sqliteStorage({ filename });
  await expect(storage.list("c")).rejects.toThrow(/newer version of identity-runtime/);
  await storage.close();
  expect(readFileSync(filename).equals(before)).toBe(true);
  expect(readdirSync(directory)).toEqual(["newer.db"]);
});

test("a call that waited for another connection's lock never becomes part of a transaction of its own adapter", async () => {
  // The other connection holds the write lock; meanwhile this adapter's commit waits for it, and a transaction
  // of this adapter starts and fails. The commit must be written on its own, and stay written.
  let acknowledgedButLost = 0;
  for (let trial = 0; trial < 10; trial++) {
    const filename = join(freshDirectory(), "gate.db");
    const [mine, other] = [sqliteStorage({ filename }), sqliteStorage({ filename })];
    await mine.list("c");
    await other.list("c");
    let release!: () => void;
    const holding = other.transaction(async (tx) => {
      await tx.commit([{ kind: "put", collection: "c", record: { id: "other", data: "1" } }]);
      await new Promise<void>((resolve) => (release = resolve));
    });
    await sleep(5);
    const committed = mine.commit([{ kind: "put", collection: "c", record: { id: "mine", data: "1" } }]);
    await sleep(1);
    const failing = mine
      .transaction(async (tx) => {
        await tx.get("c", "other");
        await sleep(100);
        throw new Error("the work gave up");
      })
      .catch(() => undefined);
    await sleep(30);
    release();
    await holding;
    const acknowledged = await committed.then(
      () => true,
      () => false,
    );
    await failing;
    if (acknowledged && (await mine.get("c", "mine")) === undefined) acknowledgedButLost++;
    await mine.close();
    await other.close();
  }
  expect(acknowledgedButLost).toBe(0);
}, 60_000);
