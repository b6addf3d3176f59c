// Several processes as one Backbone on one PostgreSQL database: relationship creations and messages per
// second with 1 process and with 4, and how long a push takes to reach a runtime in another process.
// Needs DATABASE_URL; without it the section is skipped.
import { spawn } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { randomBytes } from "node:crypto";
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

/** Operations per second of `processes` processes with PAIRS_PER_PROCESS pairs each, over `seconds`. */
async function throughput(
  url: string,
  mode: "relate" | "message",
  processes: number,
  seconds: number,
): Promise<number> {
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
    for (const child of children) child.proc.stdin.write("go\n");
    const began = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
    for (const child of children) child.proc.stdin.write("stop\n");
    const counts = await Promise.all(
      children.map(async (child) => Number((await child.next()).split(" ")[1])),
    );
    const elapsed = (performance.now() - began) / 1_000;
    return Math.round(counts.reduce((sum, count) => sum + count, 0) / elapsed);
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
    result[name] = { oneProcess: one, fourProcesses: four, ratio: Math.round((four / one) * 100) / 100 };
  }
  result["pushLatencyMsAcrossProcesses"] = await pushLatency(url, quick ? 100 : 300);
  return result;
}
