// Requests per second and p99 latency of PUT and GET /api/v2/IdentityMetadata over loopback, with 50
// concurrent connections, against the `serve` command of the built package running in its own process: in
// memory, and PUT on SQLite and (with DATABASE_URL) PostgreSQL, in the same run.
import { spawn } from "node:child_process";
import { Agent, request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { keyFor, valueFor } from "./subjects.js";

const API_KEY = "bench-key";
const CONNECTIONS = 50;

interface Server {
  url: string;
  identity: string;
  stop(): Promise<void>;
}

async function startServer(storage: string): Promise<Server> {
  const cli = new URL("../dist/cli.js", import.meta.url).pathname;
  const args = [cli, "serve", "--port", "0", "--api-key", API_KEY, "--storage", storage];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const listening = await new Promise<{ url: string; identity: string }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the server exited with ${String(code)}`)));
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as { msg: string; url: string; identity: string };
      if (entry.msg === "listening") resolve(entry);
    });
  });
  return {
    ...listening,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface Call {
  method: "PUT" | "GET";
  path: string;
  body?: string;
}

// Node's own client with keep-alive: fetch costs the client more than the server spends, and would be measured.
const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

function send(server: Server, call: Call): Promise<number> {
  const url = new URL(server.url);
  const headers: Record<string, string | number> = { "x-api-key": API_KEY };
  if (call.body !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(call.body);
  }
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: url.hostname, port: url.port, path: call.path, method: call.method, agent, headers },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on("error", reject);
    outgoing.end(call.body);
  });
}

/** `total` requests from `CONNECTIONS` concurrent loops; requests/s and p99 latency in ms. */
async function load(server: Server, total: number, call: (index: number) => Call) {
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < total) {
        const index = next++;
        const sent = process.hrtime.bigint();
        const status = await send(server, call(index));
        if (status !== 200) throw new Error(`request ${index} answered ${status}`);
        latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSec: Math.round(total / seconds),
    p99Ms: Math.round(percentile(latencies, 99) * 100) / 100,
  };
}

/** PUTs over every one of 1,000 slots first, then `total` PUTs (and GETs, when asked) measured. */
async function measureServer(storage: string, total: number, withGet: boolean) {
  const server = await startServer(storage);
  try {
    const path = "/api/v2/IdentityMetadata";
    const put = (index: number): Call => ({
      method: "PUT",
      path,
      body: JSON.stringify({
        reference: server.identity,
        key: keyFor(index % 1_000),
        value: valueFor(index),
      }),
    });
    const get = (index: number): Call => ({
      method: "GET",
      path: `${path}?reference=${encodeURIComponent(server.identity)}&key=${encodeURIComponent(keyFor(index % 1_000))}`,
    });
    await load(server, 1_000, put); // warm-up, and every GET below finds its record
    return {
      put: await load(server, total, put),
      ...(withGet ? { get: await load(server, total, get) } : {}),
    };
  } finally {
    await server.stop();
  }
}

export async function measureHttp({ quick }: { quick: boolean }) {
  const total = quick ? 2_000 : 10_000;
  const directory = mkdtempSync(join(tmpdir(), "identity-runtime-http-bench-"));
  const url = process.env["DATABASE_URL"];
  const database = `bench_http_${process.pid}`;
  try {
    const memory = await measureServer("memory", total, true);
    const sqlite = await measureServer(`sqlite:${join(directory, "bench.db")}`, total, false);
    let postgres;
    if (url !== undefined && url !== "") {
      // A database of its own: `serve` writes to the public schema of the database it is given.
      await admin(url, `CREATE DATABASE ${database}`);
      const own = new URL(url);
      own.pathname = `/${database}`;
      postgres = await measureServer(`postgres:${own.toString()}`, total, false);
    }
    return { connections: CONNECTIONS, requests: total, memory, sqlite, ...(postgres ? { postgres } : {}) };
  } finally {
    agent.destroy();
    rmSync(directory, { recursive: true, force: true });
    if (url !== undefined && url !== "") await admin(url, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
