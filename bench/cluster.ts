// Several processes as one Backbone on one PostgreSQL database: relationship creations and messages per
// second with 1 process and with 4, and how long a push takes to reach a runtime in another process.
// Needs DATABASE_URL; without it the section is skipped.
import { spawn } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { createRuntime, LocalBackbone, postgresStorage } from "identity-runtime";
import pg from "pg";

const PAIRS_PER_PROCESS = 8;

interface Child {
  proc: ChildProcessByStdio<Writable, Readable, null>;
  next(): Promise<string>;
}

function start(schema: string, runtimeSchema: string, mode: string, arg: string): Promise<Child> {
  const proc = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      new URL("cluster-child.ts", import.meta.url).pathname,
      schema,
      runtimeSchema,
      mode,
      arg,
    ],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const waiting: ((line: string) => void)[] = [];
  const seen: string[] = [];
  createInterface({ input: proc.stdout }).on("line", (line) => {
    const waiter = waiting.shift();
    if (waiter === undefined) seen.push(line);
    else waiter(line);
  });
  const next = () =>
    seen.length > 0
      ? Promise.resolve(seen.shift() as string)
      : new Promise<string>((resolve) => waiting.push(resolve));
  return next().then((line) => {
    if (line !== "ready") throw new Error(`a cluster process said ${line}`);
    return { proc, next };
  });
}

async function withSchema<T>(url: string, work: (schema: string) => Promise<T>): Promise<T> {
  const schema = `bench_${randomBytes(6).toString("hex")}`;
  try {
    return await work(schema);
  } finally {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
      [`${schema}%`],
    );
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
    await client.end();
  }
}

/** The machine's CPU time so far, busy and in all, in ticks of /proc/stat (Linux); zeros elsewhere. */
function cpuTicks(): { busy: number; total: number } {
  try {
    const [, ...fields] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/);
    const ticks = fields.map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    const total = ticks.reduce((sum, tick) => sum + tick, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Transactions the database rolled back so far (serialization failures and deadlocks among them). */
async function rollbacks(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ n: string }>(
    "SELECT xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()",
  );
  await client.end();
  return Number(rows[0]?.n ?? 0);
}

interface Throughput {
  perSec: number;
  /** The share of the machine's CPU time that was busy meanwhile: near 1, more processes cannot add. */
  cpuBusy: number;
  /** Transactions rolled back meanwhile, per operation: transactions that failed each other. */
  rollbacksPerOp: number;
}

/** Operations per second of `processes` processes with PAIRS_PER_PROCESS pairs each, over `seconds`. */
async function throughput(
  url: string,
  mode: "relate" | "message",
  processes: number,
  seconds: number,
): Promise<Throughput> {
  return withSchema(url, async (schema) => {
    // The schema's tables exist before the processes start.
    const storage = postgresStorage({ connectionString: url, schema });
    await storage.list("none");
    await storage.close();
    const children = await Promise.all(
      Array.from({ length: processes }, (_, i) =>
        start(schema, `${schema}_p${i}`, mode, String(PAIRS_PER_PROCESS)),
      ),
    );
    const rolledBackBefore = await rollbacks(url);
    const cpuBefore = cpuTicks();
    for (const child of children) child.proc.stdin.write("go\n");
    const began = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
    for (const child of children) child.proc.stdin.write("stop\n");
    const counts = await Promise.all(
      children.map(async (child) => Number((await child.next()).split(" ")[1])),
    );
    const elapsed = (performance.now() - began) / 1_000;
    const cpuAfter = cpuTicks();
    const operations = counts.reduce((sum, count) => sum + count, 0);
    const rolledBack = (await rollbacks(url)) - rolledBackBefore;
    const ticks = cpuAfter.total - cpuBefore.total;
    return {
      perSec: Math.round(operations / elapsed),
      cpuBusy: ticks === 0 ? 0 : Math.round(((cpuAfter.busy - cpuBefore.busy) / ticks) * 100) / 100,
      rollbacksPerOp: Math.round((rolledBack / Math.max(operations, 1)) * 100) / 100,
    };
  });
}

/** Milliseconds from a send in this process to the receipt in another, `count` times one after another. */
async function pushLatency(url: string, count: number): Promise<{ p50: number; p99: number }> {
  return withSchema(url, async (schema) => {
    const backboneStorage = postgresStorage({ connectionString: url, schema });
    const storage = postgresStorage({ connectionString: url, schema: `${schema}_parent` });
    const backbone = new LocalBackbone({ storage: backboneStorage });
    const sender = await createRuntime({ backbone, storage });
    const receiver = await createRuntime({ backbone, storage });
    const template = (await receiver.relationships.createOwnRelationshipTemplate()).unwrap();
    const { id } = (await sender.relationships.createRelationship({ templateId: template.id })).unwrap();
    (await receiver.relationships.acceptRelationship({ relationshipId: id })).unwrap();
    const address = receiver.address;
    await receiver.close();
    const child = await start(schema, `${schema}_parent`, "receive", address);
    const delays: number[] = [];
    for (let n = 0; n < count; n++) {
      const sentAt = performance.timeOrigin + performance.now();
      (await sender.messages.sendMessage({ recipients: [address], content: { n } })).unwrap();
      const [, , receivedAt] = (await child.next()).split(" ");
      delays.push(Number(receivedAt) - sentAt);
    }
    child.proc.stdin.write("stop\n");
    await sender.close();
    await backbone.close();
    await storage.close();
    await backboneStorage.close();
    delays.sort((a, b) => a - b);
    const at = (p: number) =>
      Math.round((delays[Math.min(delays.length - 1, Math.floor(p * delays.length))] ?? 0) * 10) / 10;
    return { p50: at(0.5), p99: at(0.99) };
  });
}

export async function measureCluster({ quick }: { quick: boolean }) {
  const url = process.env["DATABASE_URL"];
  if (url === undefined || url === "") return { skipped: "DATABASE_URL is not set" };
  const seconds = quick ? 2 : 5;
  const result: Record<string, unknown> = { pairsPerProcess: PAIRS_PER_PROCESS, seconds };
  for (const mode of ["relate", "message"] as const) {
    const one = await throughput(url, mode, 1, seconds);
    const four = await throughput(url, mode, 4, seconds);
    const name = mode === "relate" ? "relationshipCreationsPerSec" : "messagesPerSec";
    result[name] = {
      oneProcess: one.perSec,
      fourProcesses: four.perSec,
      ratio: Math.round((four.perSec / one.perSec) * 100) / 100,
      cpuBusy: { oneProcess: one.cpuBusy, fourProcesses: four.cpuBusy },
      rollbacksPerOp: { oneProcess: one.rollbacksPerOp, fourProcesses: four.rollbacksPerOp },
    };
  }
  result["pushLatencyMsAcrossProcesses"] = await pushLatency(url, quick ? 100 : 300);
  return result;
}
