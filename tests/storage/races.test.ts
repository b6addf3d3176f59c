// The Backbone's rules across OS processes on one PostgreSQL database: each test starts racers
// (race-child.ts), each a process with its own LocalBackbone and runtime storage on the same schema, sets up
// a round here, lets the racers act at the same moment, and checks the rule on what the database holds. Each
// race runs RACE_ROUNDS rounds (5 in `npm test`; `npm run race` runs 30).
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createRuntime, LocalBackbone, postgresStorage } from "../../src/index";
import type { Runtime, StorageAdapter } from "../../src/index";
import { CODE, ok, recordEvents } from "../support";
import { until } from "../../src/storage/compliance";
import { adminQuery, databaseUrl, describePostgres, freshSchema } from "./postgres";
import type { RaceOp } from "./race-child";

const ROOT = join(__dirname, "..", "..");
const ROUNDS = Number(process.env["RACE_ROUNDS"] ?? 5);
const TIMEOUT_MS = 60_000 + ROUNDS * 10_000;

/** A racer process: `command` sends one line and resolves with the racer's answer. */
interface Racer {
  command(line: object): Promise<string>;
  /** The next line it prints by itself (such as `hanging`). */
  line(): Promise<string>;
  /** The events it printed so far (after a `watch`), with when this process read each. */
  readonly events: { name: string; at: number }[];
  close(): Promise<void>;
  /** SIGKILL, and resolves once it is gone. */
  kill(): Promise<void>;
}

function startRacer(schema: string, env: Record<string, string> = {}): Promise<Racer> {
  const proc: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ["--import", "tsx", join(__dirname, "race-child.ts"), schema],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(ROOT, "tsconfig.run.json"),
        DATABASE_URL: databaseUrl(),
        ...env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let stderr = "";
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (chunk: string) => (stderr += chunk));
  const waiting: ((line: string) => void)[] = [];
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const died = exited.then(() => {
    throw new Error(`a racer exited; stderr:\n${stderr}`);
  });
  died.catch(() => undefined);
  const events: { name: string; at: number }[] = [];
  createInterface({ input: proc.stdout }).on("line", (line) => {
    if (line.startsWith("event ")) events.push({ name: line.slice("event ".length), at: performance.now() });
    else waiting.shift()?.(line);
  });
  const next = () => Promise.race([new Promise<string>((resolve) => waiting.push(resolve)), died]);
  const racer: Racer = {
    events,
    command(line) {
      const answer = next();
      proc.stdin.write(`${JSON.stringify(line)}\n`);
      return answer;
    },
    line: next,
    async close() {
      proc.stdin.end();
      await exited;
    },
    async kill() {
      proc.kill("SIGKILL");
      await exited;
    },
  };
  return next().then((line) => {
    if (line !== "ready") throw new Error(`a racer said ${line}`);
    return racer;
  });
}

/** Prepares every racer for its operation, then lets all go at once; resolves with their codes, in order. */
async function race(racers: readonly Racer[], ops: readonly RaceOp[]): Promise<string[]> {
  await Promise.all(ops.map((op, i) => (racers[i] as Racer).command({ prepare: { address: op.address } })));
  const answers = await Promise.all(ops.map((op, i) => (racers[i] as Racer).command({ go: op })));
  return answers.map((answer) => {
    if (!answer.startsWith("result ")) throw new Error(`a racer answered ${answer}`);
    return (JSON.parse(answer.slice("result ".length)) as { code: string }).code;
  });
}

/** This process's own Backbone and runtimes on the schema, to set up each round. */
interface Setup {
  backbone: LocalBackbone;
  runtime(): Promise<Runtime>;
}

function racesOn(
  count: number,
  body: (racers: Racer[], setup: Setup, schema: string) => Promise<void>,
  { runsDueJobsItself = true } = {},
) {
  return async () => {
    const schema = freshSchema();
    const storages: StorageAdapter[] = [
      postgresStorage({ connectionString: databaseUrl(), schema }),
      postgresStorage({ connectionString: databaseUrl(), schema }),
    ];
    const [backboneStorage, storage] = storages as [StorageAdapter, StorageAdapter];
    const backbone = new LocalBackbone({
      storage: backboneStorage,
      onDeliveryError: () => undefined,
      runsDueJobsItself,
    });
    const runtimes: Runtime[] = [];
    // The schema exists before the racers open it.
    await backboneStorage.list("none");
    const racers = await Promise.all(Array.from({ length: count }, () => startRacer(schema)));
    try {
      await body(
        racers,
        { backbone, runtime: async () => push(runtimes, await createRuntime({ backbone, storage })) },
        schema,
      );
    } finally {
      await Promise.all(racers.map((racer) => racer.close()));
      for (const runtime of runtimes) await runtime.close();
      await backbone.close();
      for (const each of storages) await each.close();
    }
  };
}

function push<T>(list: T[], item: T): T {
  list.push(item);
  return item;
}

/** Two new identities with a relationship that `a` created from `b`'s template, accepted if `status` says so. */
async function related(setup: Setup, status: "Pending" | "Active") {
  const [a, b] = [await setup.runtime(), await setup.runtime()];
  const template = ok(await b.relationships.createOwnRelationshipTemplate());
  const { id } = ok(await a.relationships.createRelationship({ templateId: template.id }));
  if (status === "Active") ok(await b.relationships.acceptRelationship({ relationshipId: id }));
  return { a, b, id };
}

/** The documented answers a loser of a race may get: never an unexpected or a storage failure. */
function documented(code: string): boolean {
  return code.startsWith("error.") && code !== "error.runtime.unknown" && code !== "error.runtime.storage";
}

describePostgres("the Backbone's rules across processes on one database", () => {
  test(
    `4 identities in 4 processes, a template with maxNumberOfAllocations 1: one relationship (${ROUNDS} rounds)`,
    racesOn(4, async (racers, setup, schema) => {
      for (let round = 0; round < ROUNDS; round++) {
        const owner = await setup.runtime();
        const template = ok(
          await owner.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 1 }),
        );
        const requestors = await Promise.all(racers.map(() => setup.runtime()));
        const codes = await race(
          racers,
          requestors.map(({ address }) => ({ op: "relate", address, templateId: template.id })),
        );
        expect(codes.filter((code) => code === "Ok")).toHaveLength(1);
        expect(codes.filter((code) => code !== "Ok")).toEqual(
          Array.from({ length: 3 }, () => CODE.relationshipTemplateAllocationsExhausted),
        );
        const relationships = await adminQuery(
          `SELECT id FROM "${schema}".identity_runtime_records
            WHERE collection = 'backbone/relationships' AND data::jsonb ->> 'templateId' = $1`,
          [template.id],
        );
        expect(relationships).toHaveLength(1);
        const [stored] = await adminQuery<{ allocations: string }>(
          `SELECT data::jsonb ->> 'allocations' AS allocations FROM "${schema}".identity_runtime_records
            WHERE collection = 'backbone/relationshipTemplates' AND id = $1`,
          [template.id],
        );
        expect(stored?.allocations).toBe("1");
      }
    }),
    TIMEOUT_MS,
  );

  const decisions = [
    ["approve", "reject"],
    ["approve", "approve"],
    ["reject", "reject"],
    ["cancel", "cancel"],
  ] as const;
  test.each(decisions)(
    `%s vs %s of one process from 2 processes: exactly one is Ok (${ROUNDS} rounds)`,
    async (first, second) => {
      await racesOn(2, async (racers, setup) => {
        for (let round = 0; round < ROUNDS; round++) {
          const identity = await setup.runtime();
          if (first === "cancel") ok(await identity.identityDeletion.initiateIdentityDeletionProcess());
          else ok(await setup.backbone.admin.startIdentityDeletionProcess(identity.address));
          const codes = await race(racers, [
            { op: first, address: identity.address },
            { op: second, address: identity.address },
          ]);
          expect(codes.filter((code) => code === "Ok")).toHaveLength(1);
          expect(codes.filter((code) => code !== "Ok").every(documented)).toBe(true);
          // The Backbone holds what the winner did, and only that.
          const winner = codes[0] === "Ok" ? first : second;
          const expected = { approve: "Approved", reject: "Rejected", cancel: "Cancelled" }[winner];
          const processes = ok(await setup.backbone.getIdentityDeletionProcesses(identity.address));
          expect(processes.map((process) => process.status)).toEqual([expected]);
        }
      })();
    },
    TIMEOUT_MS,
  );

  test(
    `decomposition in one process vs an upsert about that peer in another: never metadata about an unfamiliar peer (${ROUNDS} rounds)`,
    racesOn(2, async (racers, setup, schema) => {
      const outcomes: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const { a, b, id } = await related(setup, "Active");
        ok(await a.relationships.terminateRelationship({ relationshipId: id }));
        const codes = await race(racers, [
          { op: "decompose", address: a.address, relationshipId: id },
          // Upserts every 3 ms from a random start: some land before, during and after the decomposition.
          {
            op: "upsert",
            address: a.address,
            reference: b.address,
            delayMs: Math.random() * 20,
            count: 10,
            spacingMs: 3,
          },
        ]);
        expect(codes[0]).toBe("Ok");
        expect(["Ok", CODE.unfamiliarReferencedIdentity]).toContain(codes[1]);
        outcomes.push(codes[1] as string);
        const aboutB = (collection: string) =>
          adminQuery(
            `SELECT r.id FROM "${schema}".identity_runtime_records r
               JOIN "${schema}".identity_runtime_record_peers p ON p.collection = r.collection AND p.id = r.id
              WHERE r.collection = $1 AND p.peer = $2`,
            [`${a.address}/${collection}`, b.address],
          );
        expect(await aboutB("relationships")).toEqual([]);
        expect(await aboutB("identityMetadata")).toEqual([]);
      }
      console.log(
        `decompose vs upsert, ${ROUNDS} rounds: the upsert answered ${JSON.stringify(tally(outcomes))}`,
      );
    }),
    TIMEOUT_MS,
  );

  test(
    "a peer served by another process hears peerToBeDeleted, peerDeletionCancelled and peerDeleted live, once each",
    racesOn(1, async ([racer], setup) => {
      const [a, b] = [await setup.runtime(), await setup.runtime()];
      const template = ok(await b.relationships.createOwnRelationshipTemplate());
      const { id } = ok(await a.relationships.createRelationship({ templateId: template.id }));
      ok(await b.relationships.acceptRelationship({ relationshipId: id }));
      // From now on B is served by the other process only, on its own Backbone.
      await b.close();
      expect(await (racer as Racer).command({ watch: { address: b.address } })).toBe("watching");
      const events = (racer as Racer).events;
      const heard = async (count: number, action: () => Promise<unknown>): Promise<number> => {
        const start = performance.now();
        await action();
        await until(() => events.length >= count);
        return (events[count - 1]?.at ?? 0) - start;
      };
      const delays = [
        await heard(1, async () => ok(await a.identityDeletion.initiateIdentityDeletionProcess())),
        await heard(2, async () => ok(await a.identityDeletion.cancelIdentityDeletionProcess())),
        await heard(3, async () =>
          ok(await a.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 0 })),
        ),
      ];
      // The grace period of 0 days ends at once: whichever Backbone runs the due job first deletes A.
      await until(() => events.length >= 4);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(events.map((event) => event.name)).toEqual([
        "transport.peerToBeDeleted",
        "transport.peerDeletionCancelled",
        "transport.peerToBeDeleted",
        "transport.peerDeleted",
      ]);
      console.log(
        `pushes across processes, ms from the causing call to the peer's event: ${delays.map((d) => d.toFixed(1)).join(", ")}`,
      );
    }),
    TIMEOUT_MS,
  );

  test(
    `a due job runs once however many Backbones in as many processes are due to run it (${ROUNDS} rounds)`,
    racesOn(2, async (racers, setup, schema) => {
      for (let round = 0; round < ROUNDS; round++) {
        const { a, b } = await related(setup, "Active");
        const deleted = recordEvents(b, "transport.peerDeleted");
        // Each racer's Backbone and this one set their timers for the same instant, 200 ms from now.
        ok(
          await a.identityDeletion.initiateIdentityDeletionProcess({
            lengthOfGracePeriodInDays: 200 / 86_400_000,
          }),
        );
        await until(() => deleted.length >= 1);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(deleted).toHaveLength(1);
        const pushes = await adminQuery(
          `SELECT id FROM "${schema}".identity_runtime_records WHERE collection = 'backbone/outbox'`,
        );
        expect(pushes).toEqual([]);
      }
      // The racers' Backbones were there all along, with timers of their own.
      expect(racers).toHaveLength(2);
    }),
    TIMEOUT_MS,
  );

  describe("a process killed between the Backbone's commit and its runtime's", () => {
    /** Runs `op` in a racer whose runtime hangs on writing to `collection`, kills it there, and starts another. */
    async function killedMidway(schema: string, op: RaceOp, collection: string): Promise<Racer> {
      const doomed = await startRacer(schema, { HANG_ON: collection });
      try {
        await doomed.command({ prepare: { address: op.address } });
        expect(await doomed.command({ go: op })).toBe("hanging");
      } finally {
        await doomed.kill();
      }
      return startRacer(schema);
    }

    /**
     * Kills the process of `killed` while its runtime applies `op`'s change, then checks: the peer (here) heard
     * it once (`heard`), the killed runtime kept `before` until it started again, and `after` once it did.
     */
    async function crashAndRestart(
      schema: string,
      parts: {
        op: Extract<RaceOp, { relationshipId: string }>;
        peer: Runtime;
        heard: string;
        before: string;
        after?: string;
      },
    ): Promise<void> {
      const { op, peer } = parts;
      const id = op.relationshipId;
      const changed = recordEvents(peer, "transport.relationshipChanged");
      const restarted = await killedMidway(schema, op, "/relationships");
      try {
        await until(() => changed.length >= 1);
        expect(changed.map((event) => event.data.status)).toEqual([parts.heard]);
        expect(await storedStatus(schema, op.address, id)).toBe(parts.before);
        await restarted.command({ prepare: { address: op.address } });
        await until(async () => (await storedStatus(schema, op.address, id)) === parts.after);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(changed).toHaveLength(1);
        expect(await outbox(schema)).toEqual([]);
      } finally {
        await restarted.close();
      }
    }

    test(
      "an accept: after the restart both sides say Active, and the peer heard it once",
      racesOn(0, async (_racers, setup, schema) => {
        const { a, b, id } = await related(setup, "Pending");
        await b.close();
        await crashAndRestart(schema, {
          op: { op: "accept", address: b.address, relationshipId: id },
          peer: a,
          heard: "Active",
          before: "Pending",
          after: "Active",
        });
      }),
      TIMEOUT_MS,
    );

    test(
      "a decomposition: after the restart the runtime keeps nothing about the peer, and the peer heard it once",
      racesOn(0, async (_racers, setup, schema) => {
        const { a, b, id } = await related(setup, "Active");
        ok(await a.relationships.terminateRelationship({ relationshipId: id }));
        ok(await a.identityMetadata.upsertIdentityMetadata({ reference: b.address, value: "about b" }));
        await a.close();
        await crashAndRestart(schema, {
          op: { op: "decompose", address: a.address, relationshipId: id },
          peer: b,
          heard: "DeletionProposed",
          before: "Terminated",
        });
        const metadata = await adminQuery(
          `SELECT id FROM "${schema}".identity_runtime_records WHERE collection = $1`,
          [`${a.address}/identityMetadata`],
        );
        expect(metadata).toEqual([]);
      }),
      TIMEOUT_MS,
    );

    test(
      "a due job's push: the peer's runtime, killed while applying peerDeleted, applies it once back",
      racesOn(0, async (_racers, setup, schema) => {
        const { a, b, id } = await related(setup, "Active");
        const toBeDeleted = recordEvents(b, "transport.peerToBeDeleted");
        // Long enough a grace period to move b to a process that hangs on applying what comes at its end.
        ok(
          await a.identityDeletion.initiateIdentityDeletionProcess({
            lengthOfGracePeriodInDays: 4_000 / 86_400_000,
          }),
        );
        await until(() => toBeDeleted.length === 1);
        await b.close();
        const doomed = await startRacer(schema, { HANG_ON: "/relationships" });
        await killedWhenHanging(doomed, async () => {
          expect(await doomed.command({ prepare: { address: b.address } })).toBe("prepared");
        });
        expect(await storedStatus(schema, b.address, id)).toBe("Active");
        const restarted = await startRacer(schema);
        try {
          await restarted.command({ prepare: { address: b.address } });
          await until(async () => (await storedStatus(schema, b.address, id)) === "DeletionProposed");
          await until(async () => (await outbox(schema)).length === 0);
        } finally {
          await restarted.close();
        }
      }),
      TIMEOUT_MS,
    );
  });

  test(
    "a due job: the Backbone running it killed inside its transaction, another completes it once",
    racesOn(
      0,
      async (_racers, setup, schema) => {
        const { a, b } = await related(setup, "Active");
        const deleted = recordEvents(b, "transport.peerDeleted");
        // Here no Backbone runs due jobs: the doomed one does, and hangs inside its transaction.
        const doomed = await startRacer(schema, { HANG_BACKBONE_ON: "backbone/identityDeletionProcesses" });
        await killedWhenHanging(doomed, async () => {
          ok(
            await a.identityDeletion.initiateIdentityDeletionProcess({
              lengthOfGracePeriodInDays: 300 / 86_400_000,
            }),
          );
        });
        // Nothing of the due job was written: a is not deleted, and b heard nothing.
        expect(await deletedIdentity(schema, a.address)).toBe(false);
        expect(deleted).toEqual([]);
        // Another Backbone applies what is due when it starts.
        const successor = await startRacer(schema);
        try {
          await until(() => deleted.length >= 1);
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(deleted).toHaveLength(1);
          expect(await deletedIdentity(schema, a.address)).toBe(true);
          await until(async () => (await outbox(schema)).length === 0);
        } finally {
          await successor.close();
        }
      },
      { runsDueJobsItself: false },
    ),
    TIMEOUT_MS,
  );
});

/** Runs `trigger`, which makes `doomed` hang (it says `hanging`), and kills it there with SIGKILL. */
async function killedWhenHanging(doomed: Racer, trigger: () => Promise<void>): Promise<void> {
  try {
    await trigger();
    expect(await doomed.line()).toBe("hanging");
  } finally {
    await doomed.kill();
  }
}

/** Whether the Backbone holds the identity's deletion as done. */
async function deletedIdentity(schema: string, address: string): Promise<boolean> {
  const rows = await adminQuery<{ deleted: boolean }>(
    `SELECT (data::jsonb ->> 'identityDeleted') = 'true' AS deleted FROM "${schema}".identity_runtime_records
      WHERE collection = 'backbone/identityDeletionProcesses' AND data::jsonb ->> 'address' = $1`,
    [address],
  );
  return rows.some((row) => row.deleted);
}

/** The status of the relationship as the runtime of `address` keeps it, if it keeps it. */
async function storedStatus(schema: string, address: string, id: string): Promise<string | undefined> {
  const [row] = await adminQuery<{ status: string }>(
    `SELECT data::jsonb ->> 'status' AS status FROM "${schema}".identity_runtime_records
      WHERE collection = $1 AND id = $2`,
    [`${address}/relationships`, id],
  );
  return row?.status;
}

async function outbox(schema: string): Promise<unknown[]> {
  return adminQuery(
    `SELECT id FROM "${schema}".identity_runtime_records WHERE collection = 'backbone/outbox'`,
  );
}

function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
