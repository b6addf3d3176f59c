// Requests per second and p99 latency of PUT and GET /api/v2/IdentityMetadata over loopback, with 50
// concurrent connections, against the `serve` command of the built package running in its own process.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { keyFor, valueFor } from "./subjects.js";

const API_KEY = "bench-key";
const CONNECTIONS = 50;

interface Server {
  url: string;
  identity: string;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const cli = new URL("../dist/cli.js", import.meta.url).pathname;
  const child = spawn(process.execPath, [cli, "serve", "--port", "0", "--api-key", API_KEY], {
    stdio: ["ignore", "pipe", "inherit"],
  });
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

/** `total` requests from `CONNECTIONS` concurrent loops; requests/s and p99 latency in ms. */
async function load(total: number, request: (index: number) => Promise<Response>) {
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < total) {
        const index = next++;
        const sent = process.hrtime.bigint();
        const response = await request(index);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`request ${index} failed with ${response.status}`);
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

export async function measureHttp({ quick }: { quick: boolean }) {
  const total = quick ? 2_000 : 10_000;
  const server = await startServer();
  try {
    const headers = { "x-api-key": API_KEY, "content-type": "application/json" };
    const endpoint = `${server.url}/api/v2/IdentityMetadata`;
    const put = (index: number) =>
      fetch(endpoint, {
        method: "PUT",
        headers,
        body: JSON.stringify({
          reference: server.identity,
          key: keyFor(index % 1_000),
          value: valueFor(index),
        }),
      });
    const get = (index: number) =>
      fetch(
        `${endpoint}?reference=${encodeURIComponent(server.identity)}&key=${encodeURIComponent(keyFor(index % 1_000))}`,
        {
          headers,
        },
      );
    await load(500, put); // warm-up, and every GET below finds its record
    return {
      connections: CONNECTIONS,
      requests: total,
      put: await load(total, put),
      get: await load(total, get),
    };
  } finally {
    await server.stop();
  }
}
