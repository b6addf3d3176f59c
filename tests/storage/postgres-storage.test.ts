import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { createServer, connect } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { join } from "node:path";
import { runInThisContext } from "node:vm";
import { createRuntime, LocalBackbone, ManualClock, postgresStorage } from "../../src/index";
import type { Result, Runtime, StorageAdapter } from "../../src/index";
import { Pool } from "pg";
import {
  durableStorageComplianceCases,
  runComplianceCase,
  storageAdapterComplianceCases,
} from "../../src/testing";
import { increment } from "../../src/storage/compliance";
import { adminQuery, databaseUrl, describePostgres, freshSchema } from "./postgres";
import { ok } from "../support";

const ROOT = join(__dirname, "..", "..");
const START = new Date("2030-01-01T00:00:00.000Z");
// Rounds of each race across processes: 5 in `npm test`, 30 in `npm run race`.
const RACE_ROUNDS = Number(process.env["RACE_ROUNDS"] ?? 5);

function storageOn(schema: string): StorageAdapter {
  return postgresStorage({ connectionString: databaseUrl(), schema });
}

/** What a rejection with StorageFailure (by name: the driverless test loads a second copy of the class) matches. */
const storageFailure = (pattern: RegExp = /./) => ({
  name: "StorageFailure",
  message: expect.stringMatching(pattern) as unknown,
});

describe("postgresStorage options", () => {
  test("a schema that is not a plain lowercase identifier is refused at once", () => {
    for (const schema of ["", "Public", "a-b", 'x"; DROP TABLE y; --', "1abc", "a".repeat(64)]) {
      expect(() => postgresStorage({ connectionString: "postgres://localhost/x", schema })).toThrow(
        RangeError,
      );
    }
    expect(() => postgresStorage({ connectionString: "" })).toThrow(TypeError);
  });

  test("the factory does no I/O; a server that is not there fails calls with StorageFailure", async () => {
    // Port 1 on loopback: nothing listens there.
    const storage = postgresStorage({ connectionString: "postgres://nobody@127.0.0.1:1/none" });
    await expect(storage.get("c", "x")).rejects.toMatchObject(storageFailure(/PostgreSQL/));
    await expect(storage.commit([{ kind: "delete", collection: "c", id: "x" }])).rejects.toMatchObject(
      storageFailure(),
    );
    await storage.close();
    await expect(storage.get("c", "x")).rejects.toMatchObject(storageFailure(/closed/));
  });

  test("without the pg package every call fails with StorageFailure naming it", async () => {
    jest.doMock("pg", () => {
      throw new Error("Cannot find module 'pg'");
    });
    try {
      let factory: typeof postgresStorage | undefined;
      await jest.isolateModulesAsync(async () => {
        factory = (await import("../../src/storage/postgres/index")).postgresStorage;
      });
      const storage = (factory as typeof postgresStorage)({ connectionString: "postgres://localhost/x" });
      await expect(storage.list("c")).rejects.toMatchObject(storageFailure(/npm install pg/));
      await expect(storage.upsertBySlot("c", { id: "r", slot: "s", data: "{}" })).rejects.toMatchObject(
        storageFailure(/npm install pg/),
      );
      await storage.close();
    } finally {
      jest.dontMock("pg");
    }
  });
});

describePostgres("postgresStorage passes the storage compliance suite", () => {
  test.each(storageAdapterComplianceCases.map((c) => [c.name, c] as const))(
    "%s",
    async (_name, complianceCase) => {
      await runComplianceCase(() => storageOn(freshSchema()), complianceCase);
    },
  );
});

describePostgres("postgresStorage passes the durable part of the compliance suite", () => {
  test.each(durableStorageComplianceCases.map((c) => [c.name, c] as const))(
    "%s",
    async (_name, durableCase) => {
      const schema = freshSchema();
      await durableCase.run({
        open: () => storageOn(schema),
        markSchemaNewer: async () => {
          await adminQuery(
            `UPDATE "${schema}".identity_runtime_meta SET value = '2' WHERE key = 'schema_version'`,
          );
        },
      });
    },
  );
});

describePostgres("postgresStorage on a pg Pool of the caller's", () => {
  test("passes the compliance suite, and close() leaves the pool open for its owner", async () => {
    const pool = new Pool({ connectionString: databaseUrl() });
    try {
      for (const complianceCase of storageAdapterComplianceCases) {
        const schema = freshSchema();
        await runComplianceCase(() => postgresStorage({ pool, schema }), complianceCase);
      }
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});

describePostgres("postgresStorage transactions with a scope", () => {
  /** Opens a transaction about `scope` that writes one record and stays open until `release` is called. */
  function held(adapter: StorageAdapter, scope: readonly string[], id: string) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    const done = adapter.transaction(async (tx) => {
      opened();
      await tx.commit([{ kind: "put", collection: "c", record: { id, data: "{}" } }]);
      await released;
    }, scope);
    return { isOpen, release, done };
  }

  test("disjoint scopes run side by side; a shared name makes the second wait for the first", async () => {
    const schema = freshSchema();
    const first = storageOn(schema);
    const second = storageOn(schema);
    await first.list("c");
    const holder = held(first, ["did:e:a", "did:e:b"], "held");
    await holder.isOpen;
    // A disjoint scope commits while the first transaction is still open.
    await second.transaction(
      (tx) => tx.commit([{ kind: "put", collection: "c", record: { id: "beside", data: "{}" } }]),
      ["did:e:c"],
    );
    // A scope that shares a name waits: it has not even started its work while the first holds the lock.
    let started = false;
    const waiting = second.transaction(
      async (tx) => {
        started = true;
        return (await tx.get("c", "held"))?.id;
      },
      ["did:e:b", "did:e:z"],
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(started).toBe(false);
    holder.release();
    await holder.done;
    // Once the first has committed, the second runs and sees its write.
    expect(await waiting).toBe("held");
    await Promise.all([first.close(), second.close()]);
  });

  test("a scoped transaction that sits idle holding its locks is ended by the server after queryTimeoutMs, and the others go on", async () => {
    const schema = freshSchema();
    const stalled = postgresStorage({ connectionString: databaseUrl(), schema, queryTimeoutMs: 300 });
    const other = storageOn(schema);
    await other.list("c");
    // A process that stops between two statements of its transaction (a long pause, a host gone).
    const holder = held(stalled, ["did:e:a"], "stalled");
    await holder.isOpen;
    // Were the stalled session not ended, this would wait for its lock until its own query timeout, and fail.
    await other.transaction(
      (tx) => tx.commit([{ kind: "put", collection: "c", record: { id: "after", data: "{}" } }]),
      ["did:e:a"],
    );
    expect((await other.get("c", "after"))?.id).toBe("after");
    holder.release();
    await expect(holder.done).rejects.toMatchObject({ name: "StorageFailure" });
    // Nothing of the ended transaction was written.
    expect(await other.get("c", "stalled")).toBeUndefined();
    await Promise.all([stalled.close(), other.close()]);
  });

  test("many transactions with overlapping scopes in any order on two adapters: none fails, none is lost", async () => {
    const schema = freshSchema();
    const adapters = [storageOn(schema), storageOn(schema)];
    await adapters[0]?.commit([{ kind: "put", collection: "c", record: { id: "counter", data: '{"n":0}' } }]);
    const names = ["a", "b", "c", "d"];
    // Each increments the counter in a transaction about two names and the counter, given in orders of their
    // own.
    await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const pair = [names[i % 4] as string, names[(i + 1 + (i % 3)) % 4] as string];
        return increment(adapters[i % 2] as StorageAdapter, [...pair, "counter"].reverse());
      }),
    );
    expect((await adapters[1]?.get("c", "counter"))?.data).toBe('{"n":24}');
    await Promise.all(adapters.map((adapter) => adapter.close()));
  });
});

describePostgres("postgresStorage schema management", () => {
  test("creates its tables on first use, once, however many adapters start at the same time", async () => {
    const schema = freshSchema();
    const adapters = Array.from({ length: 6 }, () => storageOn(schema));
    await Promise.all(
      adapters.map((adapter, i) => adapter.upsertBySlot("c", { id: `r${i}`, slot: "s", data: "{}" })),
    );
    const rows = await adminQuery<{ value: string }>(`SELECT value FROM "${schema}".identity_runtime_meta`);
    expect(rows).toEqual([{ value: "1" }]);
    expect(await adminQuery(`SELECT id FROM "${schema}".identity_runtime_records`)).toHaveLength(1);
    await Promise.all(adapters.map((adapter) => adapter.close()));
  });

  test("a schema written by a newer version is left as it is", async () => {
    const schema = freshSchema();
    const first = storageOn(schema);
    await first.commit([{ kind: "put", collection: "c", record: { id: "r", data: "{}" } }]);
    await first.close();
    await adminQuery(`UPDATE "${schema}".identity_runtime_meta SET value = '2' WHERE key = 'schema_version'`);
    const newer = storageOn(schema);
    await expect(newer.commit([{ kind: "delete", collection: "c", id: "r" }])).rejects.toMatchObject(
      storageFailure(/newer version of identity-runtime/),
    );
    await newer.close();
    expect(await adminQuery(`SELECT id FROM "${schema}".identity_runtime_records`)).toEqual([{ id: "r" }]);
  });

  test("a record's slot, and no slot, are stored as such: NULL is no slot, never the empty string", async () => {
    const schema = freshSchema();
    const storage = storageOn(schema);
    await storage.commit([
      { kind: "put", collection: "c", record: { id: "none", data: "{}" } },
      { kind: "put", collection: "c", record: { id: "empty", slot: "", peers: [], data: "{}" } },
    ]);
    const rows = await adminQuery(
      `SELECT id, slot, peers FROM "${schema}".identity_runtime_records ORDER BY seq`,
    );
    expect(rows).toEqual([
      { id: "none", slot: null, peers: null },
      { id: "empty", slot: "", peers: "[]" },
    ]);
    expect(await storage.get("c", "empty")).toStrictEqual({ id: "empty", slot: "", peers: [], data: "{}" });
    await storage.close();
  });
});

/** What a runtime shows of its data, as the JSON its DTOs serialize to. */
async function snapshot(runtime: Runtime, peer: string): Promise<string> {
  const metadata = (reference: string, key?: string) =>
    runtime.identityMetadata.getIdentityMetadata({ reference, ...(key === undefined ? {} : { key }) });
  return JSON.stringify({
    address: runtime.address,
    relationships: ok(await runtime.relationships.getRelationships()),
    templates: ok(await runtime.relationships.getRelationshipTemplates()),
    processes: ok(await runtime.identityDeletion.getIdentityDeletionProcesses()),
    messages: ok(await runtime.messages.getMessages()),
    metadata: [
      ok(await metadata(runtime.address)),
      ok(await metadata(runtime.address, "profile")),
      ok(await metadata(peer, "crm")),
    ],
  });
}

describePostgres("a runtime and LocalBackbone on postgresStorage", () => {
  test("reopen after a restart with every identity, relationship, metadata and deletion process", async () => {
    const schema = freshSchema();
    const clock = new ManualClock(START);
    // The LocalBackbone and the runtimes share one database and schema, through adapters of their own.
    const open = () => {
      const backboneStorage = storageOn(schema);
      const storage = storageOn(schema);
      const backbone = new LocalBackbone({ storage: backboneStorage, clock });
      return {
        backbone,
        storage,
        async close(runtimes: Runtime[]) {
          for (const runtime of runtimes) await runtime.close();
          await backbone.close();
          await storage.close();
          await backboneStorage.close();
        },
      };
    };

    const before = open();
    const a = await createRuntime({ backbone: before.backbone, storage: before.storage });
    const b = await createRuntime({ backbone: before.backbone, storage: before.storage });
    const template = ok(await a.relationships.createOwnRelationshipTemplate({ content: { hello: "ü✓" } }));
    const relationship = ok(await b.relationships.createRelationship({ templateId: template.id }));
    ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
    ok(await a.identityMetadata.upsertIdentityMetadata({ reference: a.address, value: { nokey: true } }));
    ok(
      await a.identityMetadata.upsertIdentityMetadata({
        reference: a.address,
        key: "profile",
        value: { name: "Ä", n: [1, 2.5, null] },
      }),
    );
    ok(await a.identityMetadata.upsertIdentityMetadata({ reference: b.address, key: "crm", value: 42 }));
    ok(await b.identityMetadata.upsertIdentityMetadata({ reference: b.address, value: "b" }));
    ok(await b.identityMetadata.upsertIdentityMetadata({ reference: b.address, key: "profile", value: [] }));
    ok(await b.identityMetadata.upsertIdentityMetadata({ reference: a.address, key: "crm", value: {} }));
    ok(await a.messages.sendMessage({ recipients: [b.address], content: { text: "hi" } }));
    clock.advance({ hours: 1 });
    ok(await b.identityDeletion.initiateIdentityDeletionProcess());
    const seenBefore = { a: await snapshot(a, b.address), b: await snapshot(b, a.address) };
    const shown = (json: string) => JSON.parse(json) as { processes: unknown[]; relationships: object[] };
    expect(shown(seenBefore.b).processes).toHaveLength(1);
    expect(shown(seenBefore.a).relationships[0]).toHaveProperty("peerDeletionInfo");
    await before.close([a, b]);

    const after = open();
    const a2 = await createRuntime({ backbone: after.backbone, storage: after.storage, address: a.address });
    const b2 = await createRuntime({ backbone: after.backbone, storage: after.storage, address: b.address });
    expect(a2.address).toBe(a.address);
    expect(b2.address).toBe(b.address);
    expect(await snapshot(a2, b.address)).toBe(seenBefore.a);
    expect(await snapshot(b2, a.address)).toBe(seenBefore.b);
    // And it goes on from there: the deletion process is the active one.
    expect(ok(await b2.identityDeletion.getActiveIdentityDeletionProcess()).status).toBe("Approved");
    await after.close([a2, b2]);
  });
});

/** Runs a child script under tsx, the way a user's server would run: real ESM, the package's own sources. */
function child(script: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", "tsx", join(__dirname, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, "tsconfig.run.json"), DATABASE_URL: databaseUrl() },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Collects a child's output line by line; `waitFor` resolves once a line matches. */
function lines(proc: ChildProcessWithoutNullStreams) {
  const seen: string[] = [];
  let stderr = "";
  let partial = "";
  const waiters: { match: (line: string) => boolean; resolve: () => void }[] = [];
  proc.stdout.setEncoding("utf8");
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (chunk: string) => (stderr += chunk));
  proc.stdout.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      seen.push(line);
      for (const waiter of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return {
    seen,
    stderr: () => stderr,
    exited,
    waitFor(match: (line: string) => boolean): Promise<void> {
      if (seen.some(match)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then((code) =>
          reject(new Error(`child exited (${code}) before the awaited line; stderr:\n${stderr}`)),
        );
      });
    },
  };
}

/** Creates an identity on a LocalBackbone and runtime on `schema`, for child processes to reopen. */
async function createIdentity(schema: string): Promise<string> {
  const backboneStorage = storageOn(schema);
  const storage = storageOn(schema);
  const backbone = new LocalBackbone({ storage: backboneStorage });
  const runtime = await createRuntime({ backbone, storage });
  const address = runtime.address;
  await runtime.close();
  await backbone.close();
  await storage.close();
  await backboneStorage.close();
  return address;
}

/** `count` different identities in `schema`: runtimes open at once in one process never share one. */
async function createIdentities(schema: string, count: number): Promise<string[]> {
  const backboneStorage = storageOn(schema);
  const storage = storageOn(schema);
  const backbone = new LocalBackbone({ storage: backboneStorage });
  const runtimes = await Promise.all(
    Array.from({ length: count }, () => createRuntime({ backbone, storage })),
  );
  await Promise.all(runtimes.map((runtime) => runtime.close()));
  await backbone.close();
  await storage.close();
  await backboneStorage.close();
  return runtimes.map((runtime) => runtime.address);
}

/** Runs `work` on a runtime of `address` (and a LocalBackbone) on `schema`, closing everything afterwards. */
async function withRuntime<T>(
  schema: string,
  address: string,
  work: (runtime: Runtime) => Promise<T>,
): Promise<T> {
  const backboneStorage = storageOn(schema);
  const storage = storageOn(schema);
  const backbone = new LocalBackbone({ storage: backboneStorage });
  const runtime = await createRuntime({ backbone, storage, address });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
    await backbone.close();
    await storage.close();
    await backboneStorage.close();
  }
}

describePostgres("postgresStorage: one-statement upserts", () => {
  test("two adapters upserting one slot with different peers at once leave the peer index as the record says", async () => {
    const schema = freshSchema();
    const [a, b] = [storageOn(schema), storageOn(schema)] as [StorageAdapter, StorageAdapter];
    try {
      const disagreements: number[] = [];
      for (let round = 0; round < 60; round++) {
        await Promise.all([
          a.upsertBySlot("c", { id: `a${round}`, slot: "s", peers: [`a${round}`], data: "A" }),
          b.upsertBySlot("c", { id: `b${round}`, slot: "s", peers: [`b${round}`], data: "B" }),
        ]);
        const [record] = await adminQuery<{ id: string; peers: string }>(
          `SELECT id, peers FROM "${schema}".identity_runtime_records`,
        );
        const indexed = await adminQuery<{ peer: string }>(
          `SELECT peer FROM "${schema}".identity_runtime_record_peers ORDER BY peer`,
        );
        if (JSON.stringify(indexed.map((row) => row.peer)) !== record?.peers) disagreements.push(round);
      }
      expect(disagreements).toStrictEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);

  test("upserts outside transactions take one statement when the slot is new or keeps its peers", async () => {
    const schema = freshSchema();
    const pool = new Pool({ connectionString: databaseUrl() });
    const statements: string[] = [];
    const counting = {
      connect: () => pool.connect(),
      end: () => pool.end(),
      on: (event: "error", listener: (error: Error) => void) => pool.on(event, listener),
      query: ((text: string | { text: string }, values?: unknown[]) => {
        statements.push(typeof text === "string" ? text : text.text);
        return pool.query(text as string, values);
      }) as typeof pool.query,
    };
    const storage = postgresStorage({ pool: counting, schema });
    try {
      await storage.list("warm-up");
      statements.length = 0;
      await storage.upsertBySlot("c", { id: "r1", slot: "s", peers: ["p"], data: "1" });
      await storage.upsertBySlot("c", { id: "r2", slot: "s", peers: ["p"], data: "2" });
      expect(statements).toHaveLength(2);
      expect(statements.some((text) => /^\s*(BEGIN|COMMIT)/i.test(text))).toBe(false);
      expect(await storage.getBySlot("c", "s")).toStrictEqual({
        id: "r1",
        slot: "s",
        peers: ["p"],
        data: "2",
      });
      expect((await storage.listByPeer("c", "p")).map((record) => record.id)).toStrictEqual(["r1"]);
    } finally {
      await storage.close();
      await pool.end();
    }
  });
});

describePostgres("postgresStorage across processes", () => {
  test("a process killed with SIGKILL at random moments loses none of its acknowledged writes", async () => {
    const schema = freshSchema();
    const address = await createIdentity(schema);
    const RUNS = 5;
    const acked: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const proc = child("pg-crash-child.ts", [schema, address, String(run)]);
      const output = lines(proc);
      await output.waitFor((line) => line === "ack 0");
      // A random moment while it writes without pause.
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 400));
      proc.kill("SIGKILL");
      await output.exited;
      // It was still writing: the kill ended it, not an error of its own.
      expect(proc.signalCode).toBe("SIGKILL");
      const acks = output.seen.filter((line) => line.startsWith("ack ")).map((line) => line.slice(4));
      expect(acks.length).toBeGreaterThan(0);
      acked.push(...acks.map((i) => `run${run}-k${i}`));
    }

    const backboneStorage = storageOn(schema);
    const storage = storageOn(schema);
    const backbone = new LocalBackbone({ storage: backboneStorage });
    const runtime = await createRuntime({ backbone, storage, address });
    const lost: string[] = [];
    for (const key of acked) {
      const found = await runtime.identityMetadata.getIdentityMetadata({ reference: address, key });
      if (found.err) lost.push(key);
    }
    await runtime.close();
    await backbone.close();
    // Nothing half-written either: every record is in the peer index, and the other way round.
    const collection = `${address}/identityMetadata`;
    const records = await storage.list(collection);
    expect((await storage.listByPeer(collection, address)).map((r) => r.id)).toEqual(
      records.map((r) => r.id),
    );
    await storage.close();
    await backboneStorage.close();
    console.log(
      `crash test: ${RUNS} SIGKILLs, ${acked.length} acknowledged writes checked, ${lost.length} lost`,
    );
    expect(lost).toEqual([]);
    expect(acked.length).toBeGreaterThanOrEqual(RUNS);
  }, 120_000);

  /** Starts four children on one identity, lets them go at once, and returns what each printed as its result. */
  async function race(
    mode: "upsert" | "delete" | "start" | "relate",
    schema: string,
    address: string,
    ...rest: string[]
  ) {
    const procs = Array.from({ length: 4 }, () =>
      child("pg-many-child.ts", [mode, schema, address, ...rest]),
    );
    const outputs = procs.map(lines);
    await Promise.all(outputs.map((output) => output.waitFor((line) => line === "ready")));
    for (const proc of procs) proc.stdin.write("go\n");
    const codes = await Promise.all(
      outputs.map(async (output) => {
        const exitCode = await output.exited;
        if (exitCode !== 0) throw new Error(`child exited with ${exitCode}:\n${output.stderr()}`);
        const line = output.seen.find((seen) => seen.startsWith("result "));
        if (line === undefined) throw new Error(`child printed no result:\n${output.stderr()}`);
        return (JSON.parse(line.slice("result ".length)) as { codes: string[] }).codes;
      }),
    );
    return codes;
  }

  test(
    `4 processes starting at once on an empty database become one identity (${RACE_ROUNDS} rounds)`,
    async () => {
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const schema = freshSchema();
        const addresses = (await race("start", schema, "-")).flat();
        expect(addresses).toHaveLength(4);
        expect(new Set(addresses).size).toBe(1);
        const stored = await adminQuery<{ id: string }>(
          `SELECT id FROM "${schema}".identity_runtime_records WHERE collection = 'runtime/identities'`,
        );
        expect(stored).toEqual([{ id: addresses[0] }]);
      }
    },
    60_000 + RACE_ROUNDS * 8_000,
  );

  test(
    `4 processes of one identity creating a relationship from one template at once: one relationship (${RACE_ROUNDS} rounds)`,
    async () => {
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const schema = freshSchema();
        const [owner = "", requestor = ""] = await createIdentities(schema, 2);
        const templateId = await withRuntime(
          schema,
          owner,
          async (runtime) => ok(await runtime.relationships.createOwnRelationshipTemplate()).id,
        );
        const codes = (await race("relate", schema, requestor, templateId)).flat();
        expect(codes.filter((code) => code === "Ok")).toHaveLength(1);
        expect(codes.filter((code) => code !== "Ok")).toEqual(
          Array.from({ length: 3 }, () => "error.transport.relationships.relationshipCurrentlyExists"),
        );
        const stored = await adminQuery(
          `SELECT id FROM "${schema}".identity_runtime_records WHERE collection = 'backbone/relationships'`,
        );
        expect(stored).toHaveLength(1);
      }
    },
    60_000 + RACE_ROUNDS * 8_000,
  );

  test("4 processes upserting the same slots at once leave exactly one record per slot", async () => {
    const schema = freshSchema();
    const address = await createIdentity(schema);
    const codes = await race("upsert", schema, address);
    expect(codes.flat().filter((code) => code !== "Ok")).toEqual([]);
    expect(codes.flat()).toHaveLength(4 * 3 * 20);
    const perSlot = await adminQuery<{ slot: string; n: string }>(
      `SELECT slot, count(*) AS n FROM "${schema}".identity_runtime_records WHERE collection = $1 GROUP BY slot`,
      [`${address}/identityMetadata`],
    );
    console.log(
      `many processes: ${codes.flat().length} upserts by 4 processes on ${perSlot.length} slots, records per slot: ${[...new Set(perSlot.map((row) => row.n))].join(",")}`,
    );
    expect(perSlot).toHaveLength(20);
    expect(perSlot.every((row) => row.n === "1")).toBe(true);
    const peerRows = await adminQuery<{ n: string }>(
      `SELECT count(*) AS n FROM "${schema}".identity_runtime_record_peers WHERE collection = $1`,
      [`${address}/identityMetadata`],
    );
    expect(peerRows).toEqual([{ n: "20" }]);
  }, 120_000);

  test("4 processes racing to initiate the deletion of one identity: exactly one active process", async () => {
    const schema = freshSchema();
    const address = await createIdentity(schema);
    const codes = (await race("delete", schema, address)).flat();
    expect(codes.filter((code) => code === "Ok")).toHaveLength(1);
    expect(codes.filter((code) => code !== "Ok")).toEqual(
      Array.from(
        { length: 3 },
        () => "error.runtime.identityDeletionProcess.activeIdentityDeletionProcessAlreadyExists",
      ),
    );
    const processes = await adminQuery<{ slot: string | null }>(
      `SELECT slot FROM "${schema}".identity_runtime_records WHERE collection = 'backbone/identityDeletionProcesses'`,
    );
    expect(processes).toEqual([{ slot: address }]);
  }, 120_000);
});

/**
 * A TCP proxy in front of the server, to take the database away and bring it back, or to make it stop
 * answering (`freeze`: connections stay open, nothing is forwarded) and answer again (`thaw`).
 */
async function proxyTo(target: URL) {
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  let server: Server | undefined;
  let port = 0;
  const start = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("error", () => undefined);
          socket.on("close", () => sockets.delete(socket));
        }
        const pair: [Socket, Socket] = [client, upstream];
        pairs.add(pair);
        client.on("close", () => pairs.delete(pair));
        if (!frozen) client.pipe(upstream).pipe(client);
      });
      server.listen(port, "127.0.0.1", () => {
        port = (server?.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (server === undefined) resolve();
      else server.close(() => resolve());
    });
  const freeze = () => {
    frozen = true;
    for (const [client, upstream] of pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
    }
  };
  const thaw = () => {
    frozen = false;
    for (const [client, upstream] of pairs) client.pipe(upstream).pipe(client);
  };
  await start();
  const url = new URL(target.href);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return { url: url.href, start, stop, freeze, thaw };
}

describePostgres("postgresStorage when the connection is lost", () => {
  test("terminated backends: the next call resolves (an error.runtime.storage Result or Ok), the one after is Ok", async () => {
    const schema = freshSchema();
    const address = await createIdentity(schema);
    // A name of its own, so that only this adapter's connections are terminated.
    const applicationName = `lost_${schema}`;
    const url = new URL(databaseUrl());
    url.searchParams.set("application_name", applicationName);
    const backboneStorage = storageOn(schema);
    const storage = postgresStorage({ connectionString: url.href, schema });
    const backbone = new LocalBackbone({ storage: backboneStorage });
    const runtime = await createRuntime({ backbone, storage, address });
    const upsert = (value: number) =>
      runtime.identityMetadata.upsertIdentityMetadata({ reference: address, key: "k", value });
    try {
      ok(await upsert(1));
      for (let round = 0; round < 3; round++) {
        // Several pooled connections, idle now.
        await Promise.all(Array.from({ length: 5 }, (_, i) => storage.get("c", String(i))));
        const terminated = await adminQuery<{ terminated: boolean }>(
          `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`,
          [applicationName],
        );
        expect(terminated.length).toBeGreaterThan(0);
        expect(terminated.every((row) => row.terminated)).toBe(true);
        const next = await upsert(10 + round);
        if (next.err) expect(next.val.code).toBe("error.runtime.storage");
        expect(ok(await upsert(20 + round)).value).toBe(20 + round);
        const read = await runtime.identityMetadata.getIdentityMetadata({ reference: address, key: "k" });
        expect(ok(read).value).toBe(20 + round);
      }
    } finally {
      await runtime.close();
      await backbone.close();
      await storage.close();
      await backboneStorage.close();
    }
  });

  test("the database gone: calls fail with StorageFailure; once it is back, the next call succeeds", async () => {
    const proxy = await proxyTo(new URL(databaseUrl()));
    const storage = postgresStorage({ connectionString: proxy.url, schema: freshSchema() });
    try {
      await storage.commit([{ kind: "put", collection: "c", record: { id: "r", data: "{}" } }]);
      await proxy.stop();
      await expect(storage.get("c", "r")).rejects.toMatchObject(storageFailure());
      await expect(
        storage.commit([{ kind: "put", collection: "c", record: { id: "r2", data: "{}" } }]),
      ).rejects.toMatchObject(storageFailure());
      await proxy.start();
      expect(await storage.get("c", "r")).toStrictEqual({ id: "r", data: "{}" });
      await storage.commit([{ kind: "put", collection: "c", record: { id: "r2", data: "{}" } }]);
      expect((await storage.list("c")).map((record) => record.id)).toEqual(["r", "r2"]);
    } finally {
      await storage.close();
      await proxy.stop();
    }
  });

  test("a database that stops answering: calls fail with StorageFailure after queryTimeoutMs instead of hanging; once it answers again, calls succeed", async () => {
    const proxy = await proxyTo(new URL(databaseUrl()));
    const storage = postgresStorage({
      connectionString: proxy.url,
      schema: freshSchema(),
      queryTimeoutMs: 300,
    });
    try {
      await storage.commit([{ kind: "put", collection: "c", record: { id: "r", data: "{}" } }]);
      proxy.freeze();
      const started = Date.now();
      await expect(storage.get("c", "r")).rejects.toMatchObject(storageFailure());
      // A few timeouts (the first attempt and its retries on fresh connections), far from forever.
      expect(Date.now() - started).toBeLessThan(8_000);
      proxy.thaw();
      expect(await storage.get("c", "r")).toStrictEqual({ id: "r", data: "{}" });
    } finally {
      await storage.close();
      await proxy.stop();
    }
  });

  test("queryTimeoutMs must be a whole number of milliseconds ≥ 1", () => {
    for (const queryTimeoutMs of [0, -1, 1.5, Number.NaN]) {
      expect(() => postgresStorage({ connectionString: "postgres://x", queryTimeoutMs })).toThrow(RangeError);
    }
  });

  test("the database gone under a runtime and its LocalBackbone: facades resolve to error.runtime.storage, never reject; once it is back, the next call is Ok", async () => {
    // Jest's `process` is a copy of the real one whose listeners never fire: listen on the process itself.
    const realProcess = runInThisContext("process") as NodeJS.Process;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    realProcess.on("unhandledRejection", onUnhandled);
    const proxy = await proxyTo(new URL(databaseUrl()));
    const schema = freshSchema();
    // Both through the proxy: taking it away takes the database away from the runtime and the backbone.
    const backboneStorage = postgresStorage({ connectionString: proxy.url, schema });
    const storage = postgresStorage({ connectionString: proxy.url, schema });
    const backbone = new LocalBackbone({ storage: backboneStorage });
    let runtime: Runtime | undefined;
    try {
      runtime = await createRuntime({ backbone, storage });
      const { identityMetadata, identityDeletion } = runtime;
      const reference = runtime.address;
      ok(await identityMetadata.upsertIdentityMetadata({ reference, key: "k", value: { first: 1 } }));

      await proxy.stop();
      // Each call must resolve to a Result: a rejection fails the test, naming the call.
      const codes: Record<string, string> = {};
      const calls = {
        upsertIdentityMetadata: () =>
          identityMetadata.upsertIdentityMetadata({ reference, key: "k2", value: 2 }),
        getIdentityMetadata: () => identityMetadata.getIdentityMetadata({ reference, key: "k" }),
        initiateIdentityDeletionProcess: () => identityDeletion.initiateIdentityDeletionProcess(),
      };
      for (const [name, call] of Object.entries(calls)) {
        const result = await (call() as Promise<Result<unknown, { code: string }>>).catch(
          (error: unknown) => {
            throw new Error(`${name} rejected instead of resolving to a Result: ${String(error)}`);
          },
        );
        codes[name] = result.err ? result.val.code : "Ok";
      }
      expect(codes).toEqual({
        upsertIdentityMetadata: "error.runtime.storage",
        getIdentityMetadata: "error.runtime.storage",
        initiateIdentityDeletionProcess: "error.runtime.storage",
      });

      await proxy.start();
      expect(
        ok(await identityMetadata.upsertIdentityMetadata({ reference, key: "k2", value: 2 })).value,
      ).toBe(2);
      expect(ok(await identityMetadata.getIdentityMetadata({ reference, key: "k" })).value).toEqual({
        first: 1,
      });
      // Unhandled rejections are reported once the microtasks and pending I/O callbacks have run.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      await runtime?.close();
      await backbone.close();
      await storage.close();
      await backboneStorage.close();
      await proxy.stop();
      realProcess.removeListener("unhandledRejection", onUnhandled);
    }
  }, 10_000);
});
