import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync as makeTemporaryDirectory, writeFileSync } from "node:fs";
import { request } from "node:http";
import { startCli, startServer } from "./cli";
import { call, expectError, ODD_TARGETS, query, rawRequest, resultOf } from "./client";
import type { IdentityMetadataDTO } from "../../src/index";
import { adminQuery, databaseUrl, describePostgres } from "../storage/postgres";

const TEST_TIMEOUT_MS = 15_000;

test(
  "serve: listens, answers /health and a PUT + GET on its own identity, logs each request, stops on SIGTERM with exit 0",
  async () => {
    const { cli, url, identity } = await startServer(["--api-key", "k"]);

    const health = await call(url, "GET", "/health", { key: null });
    expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: { isHealthy: true } });

    const put = await call(url, "PUT", "/api/v2/IdentityMetadata", {
      key: "k",
      json: { reference: identity, key: "cli", value: { from: "test" } },
    });
    const created = resultOf<IdentityMetadataDTO>(put);
    expect(created).toStrictEqual({
      id: created.id,
      reference: identity,
      key: "cli",
      value: { from: "test" },
    });
    const get = await call(
      url,
      "GET",
      `/api/v2/IdentityMetadata${query(["reference", identity], ["key", "cli"])}`,
      {
        key: "k",
      },
    );
    expect(resultOf<IdentityMetadataDTO>(get)).toStrictEqual(created);
    expectError(
      await call(url, "GET", "/api/v2/IdentityDeletionStatus", { key: "wrong" }),
      401,
      "error.http.unauthorized",
    );

    const logged = await cli.line((line) => line.msg === "request" && line.method === "PUT");
    expect(logged).toMatchObject({
      level: "info",
      method: "PUT",
      path: "/api/v2/IdentityMetadata",
      status: 200,
    });
    expect(typeof logged.ms).toBe("number");
    expect(logged.ms).toBeGreaterThanOrEqual(0);
    expect(new Date(logged.time).toISOString()).toBe(logged.time);
    await cli.line((line) => line.msg === "request" && line.method === "GET" && line.status === 200);
    await cli.line((line) => line.msg === "request" && line.status === 401);
    // The API key never reaches the logs.
    expect(JSON.stringify(cli.lines)).not.toContain('"k"');

    cli.child.kill("SIGTERM");
    expect(await cli.exited()).toEqual({ code: 0, signal: null });
    await cli.line((line) => line.msg === "stopped");
    expect(cli.lines.find((line) => line.msg === "shutting down")).toMatchObject({ signal: "SIGTERM" });
  },
  TEST_TIMEOUT_MS,
);

test(
  "SIGTERM while a request is in flight: the request completes with 200, then the process exits 0",
  async () => {
    const { cli, url, identity } = await startServer(["--api-key", "k"]);
    const body = JSON.stringify({ reference: identity, value: "in flight" });
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        controller.enqueue(Buffer.from(body.slice(0, 10)));
      },
    });
    const answer = call(url, "PUT", "/api/v2/IdentityMetadata", {
      key: "k",
      raw: stream,
      headers: { "content-type": "application/json" },
    });
    // Let the request reach the server, then ask it to stop while the body is still coming.
    await new Promise((resolve) => setTimeout(resolve, 300));
    cli.child.kill("SIGTERM");
    await cli.line((line) => line.msg === "shutting down");
    controller.enqueue(Buffer.from(body.slice(10)));
    controller.close();
    const finished = await answer;
    expect(resultOf<IdentityMetadataDTO>(finished).value).toBe("in flight");
    expect(await cli.exited()).toEqual({ code: 0, signal: null });
    await cli.line((line) => line.msg === "stopped");
  },
  TEST_TIMEOUT_MS,
);

test(
  "the API key may come from IDENTITY_RUNTIME_API_KEY; SIGINT stops with exit 0 too",
  async () => {
    const { cli, url } = await startServer([], { IDENTITY_RUNTIME_API_KEY: "from-env" });
    expectError(
      await call(url, "GET", "/api/v2/IdentityDeletionStatus", { key: "k" }),
      401,
      "error.http.unauthorized",
    );
    expect(resultOf(await call(url, "GET", "/api/v2/IdentityDeletionStatus", { key: "from-env" }))).toEqual({
      isDeleted: false,
    });
    cli.child.kill("SIGINT");
    expect(await cli.exited()).toEqual({ code: 0, signal: null });
    await cli.line((line) => line.msg === "stopped");
  },
  TEST_TIMEOUT_MS,
);

test(
  "serve without an API key exits with code 2 and says why, without listening",
  async () => {
    const cli = startCli(["serve", "--port", "0"]);
    expect(await cli.exited()).toEqual({ code: 2, signal: null });
    expect(cli.stderr()).toMatch(/API key/i);
    expect(cli.lines.some((line) => line.msg === "listening")).toBe(false);
  },
  TEST_TIMEOUT_MS,
);

test.each([
  ["an unknown storage", ["serve", "--port", "0", "--api-key", "k", "--storage", "nope"]],
  ["an invalid port", ["serve", "--port", "70000", "--api-key", "k"]],
  ["an empty port", ["serve", "--port", "", "--api-key", "k"]],
  ["an empty host (every interface)", ["serve", "--port", "0", "--host", "", "--api-key", "k"]],
  ["an API key with a space at its end", ["serve", "--port", "0", "--api-key", "k "]],
  ["a hexadecimal port", ["serve", "--port", "0x1", "--api-key", "k"]],
  ["a port in exponent notation", ["serve", "--port", "1e3", "--api-key", "k"]],
  ["a negative shutdown grace", ["serve", "--port", "0", "--api-key", "k", "--shutdown-grace", "-1"]],
  ["an unreadable key file", ["serve", "--port", "0", "--api-key-file", "/nonexistent/key"]],
  [
    "both a key and a key file",
    ["serve", "--port", "0", "--api-key", "k", "--api-key-file", "/etc/hostname"],
  ],
  ["an unknown command", ["nope"]],
])(
  "%s exits with code 2",
  async (_name, args) => {
    const cli = startCli(args);
    expect(await cli.exited()).toEqual({ code: 2, signal: null });
    expect(cli.lines.some((line) => line.msg === "listening")).toBe(false);
  },
  TEST_TIMEOUT_MS,
);

test(
  "with --storage sqlite:<file>, the identity and its IdentityMetadata survive a restart of the server",
  async () => {
    const directory = mkdtempSync(join(tmpdir(), "identity-runtime-serve-"));
    try {
      const storage = `sqlite:${join(directory, "server.db")}`;
      const first = await startServer(["--api-key", "k", "--storage", storage]);
      const reference = first.identity;
      const put = await call(first.url, "PUT", "/api/v2/IdentityMetadata", {
        key: "k",
        json: { reference, key: "crm", value: { kept: true } },
      });
      expect(put.status).toBe(200);
      first.cli.child.kill("SIGTERM");
      expect((await first.cli.exited()).code).toBe(0);

      const second = await startServer(["--api-key", "k", "--storage", storage]);
      expect(second.identity).toBe(reference);
      const slot = query(["reference", reference], ["key", "crm"]);
      const got = await call(second.url, "GET", `/api/v2/IdentityMetadata${slot}`, { key: "k" });
      expect(resultOf<IdentityMetadataDTO>(got, 200).value).toEqual({ kept: true });
      second.cli.child.kill("SIGTERM");
      expect((await second.cli.exited()).code).toBe(0);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  },
  TEST_TIMEOUT_MS,
);

test(
  "8 odd request targets without an API key: each gets an answer, and /health still answers 200",
  async () => {
    const { cli, url } = await startServer(["--api-key", "k"]);
    for (const target of ODD_TARGETS) {
      const answer = await rawRequest(url, `GET ${target} HTTP/1.1\r\nhost: localhost`);
      expect({ target, answered: [400, 401, 404].includes(answer.status) }).toEqual({
        target,
        answered: true,
      });
    }
    const health = await call(url, "GET", "/health", { key: null });
    expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: { isHealthy: true } });
    expect(cli.child.exitCode).toBeNull();
    cli.child.kill("SIGTERM");
    expect((await cli.exited()).code).toBe(0);
  },
  TEST_TIMEOUT_MS,
);

test(
  "--api-key-file: the key comes from the file (without its trailing newline), and --api-key warns that ps shows it",
  async () => {
    const directory = makeTemporaryDirectory(join(tmpdir(), "identity-runtime-key-"));
    try {
      const file = join(directory, "key");
      writeFileSync(file, "from-file\n");
      const { cli, url, identity } = await startServer(["--api-key-file", file]);
      const slot = `/api/v2/IdentityMetadata${query(["reference", identity])}`;
      expectError(
        await call(url, "GET", slot, { key: "from-file" }),
        404,
        "error.runtime.identityMetadata.notFound",
      );
      expect(cli.lines.some((line) => line.level === "warn")).toBe(false);
      cli.child.kill("SIGTERM");
      await cli.exited();

      const visible = await startServer(["--api-key", "k"]);
      expect(visible.cli.lines.find((line) => line.level === "warn")?.msg).toContain("ps");
      visible.cli.child.kill("SIGTERM");
      await visible.cli.exited();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  },
  TEST_TIMEOUT_MS,
);

test(
  "a client trickling a body does not hold SIGTERM up beyond the shutdown grace period",
  async () => {
    const { cli, url } = await startServer(["--api-key", "k", "--shutdown-grace", "1"]);
    const { hostname, port } = new URL(url);
    const trickle = request({
      host: hostname,
      port,
      method: "PUT",
      path: "/api/v2/IdentityMetadata",
      headers: { "x-api-key": "k", "content-type": "application/json", "content-length": "1000" },
    });
    trickle.on("error", () => undefined);
    trickle.write("{");
    const dripping = setInterval(() => trickle.write(" "), 100);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const signalled = Date.now();
      cli.child.kill("SIGTERM");
      expect(await cli.exited(8_000)).toEqual({ code: 0, signal: null });
      // 1 s of grace, then the busy connection is closed and the server stops.
      expect(Date.now() - signalled).toBeLessThan(5_000);
      expect(cli.lines.some((line) => line.msg === "stopped")).toBe(true);
    } finally {
      clearInterval(dripping);
      trickle.destroy();
    }
  },
  TEST_TIMEOUT_MS,
);

test(
  "when the reader of its stdout goes away, the server keeps serving (no EPIPE crash)",
  async () => {
    const { cli, url } = await startServer(["--api-key", "k"]);
    cli.child.stdout?.destroy();
    // Every request writes a log line into the closed pipe.
    for (let index = 0; index < 20; index++) {
      expect((await call(url, "GET", "/health", { key: null })).status).toBe(200);
    }
    expect(cli.child.exitCode).toBeNull();
    cli.child.kill("SIGTERM");
    expect((await cli.exited()).code).toBe(0);
  },
  TEST_TIMEOUT_MS,
);

describePostgres("two serve processes on one PostgreSQL database", () => {
  const database = `test_${process.pid}_${Date.now().toString(36)}`;
  let connectionString = "";

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${database}`);
    const url = new URL(databaseUrl());
    url.pathname = `/${database}`;
    connectionString = url.toString();
  });

  afterAll(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  test("serve the same identity and agree on every route after an initiation, a cancellation and a deletion through either", async () => {
    const args = ["--api-key", "k", "--storage", `postgres:${connectionString}`];
    const [first, second] = await Promise.all([startServer(args), startServer(args)]);
    // Both started on an empty database at once: they are one identity.
    expect(second.identity).toBe(first.identity);
    const identity = first.identity;
    const routes = [
      "/api/v2/IdentityDeletionProcesses",
      "/api/v2/IdentityDeletionProcesses/Active",
      "/api/v2/IdentityDeletionStatus",
      `/api/v2/IdentityMetadata${query(["reference", identity])}`,
    ];
    const answers = async (url: string) =>
      Promise.all(
        routes.map(async (path) => {
          const answer = await call(url, "GET", path, { key: "k" });
          // Error ids and times differ by nature; the status and code are what must agree.
          const body = answer.body as { error?: { code: string } } | undefined;
          return { status: answer.status, body: body?.error === undefined ? body : body.error.code };
        }),
      );
    /** Milliseconds until both servers answer every route the same. */
    const agreement = async (): Promise<number> => {
      const start = performance.now();
      for (;;) {
        const [one, other] = await Promise.all([answers(first.url), answers(second.url)]);
        if (JSON.stringify(one) === JSON.stringify(other)) return performance.now() - start;
        if (performance.now() - start > 5_000) expect(other).toEqual(one);
      }
    };
    const delays: number[] = [];
    resultOf(
      await call(first.url, "PUT", "/api/v2/IdentityMetadata", {
        key: "k",
        json: { reference: identity, value: "shared" },
      }),
    );
    delays.push(await agreement());
    resultOf(await call(first.url, "POST", "/api/v2/IdentityDeletionProcesses", { key: "k" }), 201);
    delays.push(await agreement());
    resultOf(await call(second.url, "POST", "/api/v2/IdentityDeletionProcesses/Active/Cancel", { key: "k" }));
    delays.push(await agreement());
    resultOf(
      await call(second.url, "POST", "/api/v2/IdentityDeletionProcesses", {
        key: "k",
        json: { lengthOfGracePeriodInDays: 0 },
      }),
      201,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    delays.push(await agreement());
    const status = resultOf<{ isDeleted: boolean }>(
      await call(first.url, "GET", "/api/v2/IdentityDeletionStatus", { key: "k" }),
    );
    expect(status.isDeleted).toBe(true);
    // Neither server takes a write for the deleted identity any more.
    for (const { url } of [first, second]) {
      expectError(
        await call(url, "PUT", "/api/v2/IdentityMetadata", {
          key: "k",
          json: { reference: identity, value: "late" },
        }),
        409,
        "error.runtime.identityDeleted",
      );
    }
    console.log(
      `two servers on one database agreed ${delays.map((d) => d.toFixed(1)).join(", ")} ms after each change`,
    );
  }, 60_000);
});
