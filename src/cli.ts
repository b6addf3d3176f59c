#!/usr/bin/env node
// `identity-runtime serve`: the HTTP API on the embedded default, as a ready server.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { createAdminUiHandler } from "./admin-ui/handler.js";
import { adminKeyProblem, createAdminHandler } from "./http/admin.js";
import { createHttpHandler, isSendableApiKey } from "./http/handler.js";
import { parseTarget } from "./http/request.js";
import type { RequestLogEntry } from "./http/serving.js";
import { startWebhooks, webhooksConfigProblems } from "./http/webhooks.js";
import type { WebhooksConfig } from "./http/webhooks.js";
import { LocalBackbone } from "./backbone/local-backbone.js";
import type { StorageAdapter } from "./core/storage.js";
import { createRuntime } from "./runtime/runtime.js";
import { postgresStorage } from "./storage/postgres/index.js";
import { sqliteStorage } from "./storage/sqlite-storage.js";

const USAGE = `Usage: identity-runtime serve [options]

Serves the enmeshed Connector's routes (under /api/v2 and /api/core/v1) for one identity on an
embedded Backbone, and delivers its events to webhooks and event streams (GET /api/v2/Events).

Options:
  --port <n>              port to listen on, 0 to 65535 in decimal (default 8080; 0 picks a free one)
  --host <host>           address to listen on (default 127.0.0.1)
  --api-key-file <file>   a file holding the X-API-KEY clients must send (a trailing newline is dropped)
  --api-key <key>         the key itself; other users of the machine see it in \`ps\`: prefer the file or
                          the environment variable IDENTITY_RUNTIME_API_KEY
  --storage <kind>        memory (default), sqlite:<file>, or postgres:<connection string>
                          (the runtime and its Backbone share it; DATABASE_URL works for postgres:)
  --identity <name>       the identity this server is: created on first start, reopened by its name after;
                          servers on one database with different names are different identities, with the
                          same name the same one (default: the storage's first unnamed identity)
  --admin-key-file <file> a file holding the X-ADMIN-KEY of the Backbone Admin routes (/admin/v1/…) and the
                          Admin UI (/admin-ui/), which are served only when it (or IDENTITY_RUNTIME_ADMIN_KEY)
                          is given; never the API key
  --webhooks <file>       a JSON file of webhook targets and triggers, as the Connector's webhooks module
                          takes them: { "targets": { … }, "webhooks": [{ "triggers": [ … ], "target": … }] }
  --shutdown-grace <s>    seconds that requests in flight get to finish after SIGTERM/SIGINT before their
                          connections are closed (default 10)
  --help                  this text

Usage: identity-runtime admin [options]

Serves the Backbone Admin UI (/admin-ui/) and the Backbone Admin routes (/admin/v1/…) on the Backbone's
storage, without an identity of its own; on PostgreSQL beside any number of servers on the same database.

Options:
  --port <n>              port to listen on (default 8081; 0 picks a free one)
  --host <host>           address to listen on (default 127.0.0.1)
  --storage <kind>        memory (default), sqlite:<file>, or postgres:<connection string>, as for serve
  --admin-key-file <file> a file holding the admin key operators sign in with (or IDENTITY_RUNTIME_ADMIN_KEY)
  --admin-key <key>       the key itself; other users of the machine see it in \`ps\`: prefer the file
  --secure-cookies        mark the session cookie Secure: set it when an HTTPS proxy serves the UI
  --help                  this text`;

/** How long a client may take to send a whole request; a slower one is answered 408 and disconnected. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Whether stdout still has a reader: once it is gone (EPIPE), the server goes on serving without logs. */
let logging = true;
process.stdout.on("error", () => {
  logging = false;
});

/** One JSON object per line on stdout: easy to read for people and for log shippers. */
function log(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  if (!logging) return;
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function exitWith(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** A whole number from 0 to `max` written in decimal digits, or exit: `""`, `0x1`, `1e3`, `-0` are refused. */
function decimal(option: string, text: string | undefined, max: number): number {
  const value = Number(text);
  if (text === undefined || !/^\d{1,10}$/.test(text) || value > max)
    exitWith(
      `${option} must be a whole number from 0 to ${max} in decimal digits, not ${JSON.stringify(text)}`,
    );
  return value;
}

/** The API key from the file, the option or the environment, exactly one of them; refused when empty. */
function apiKeyOf(given: string | undefined, file: string | undefined): string {
  if (given !== undefined && file !== undefined) exitWith("give --api-key or --api-key-file, not both");
  let apiKey = given ?? process.env["IDENTITY_RUNTIME_API_KEY"];
  if (file !== undefined) {
    try {
      apiKey = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      exitWith(`--api-key-file ${file} cannot be read: ${messageOf(error)}`);
    }
  }
  if (apiKey === undefined || apiKey === "")
    exitWith("an API key is required: --api-key-file, IDENTITY_RUNTIME_API_KEY or --api-key");
  if (!isSendableApiKey(apiKey))
    exitWith("the API key must be printable ASCII without spaces at either end: a client can send no other");
  if (given !== undefined)
    log(
      "warn",
      "--api-key is visible to other users in ps; prefer --api-key-file or IDENTITY_RUNTIME_API_KEY",
    );
  return apiKey;
}

/** The admin key from the file or the environment, if any: never the API key. */
function adminKeyOf(file: string | undefined, apiKey?: string): string | undefined {
  let adminKey = process.env["IDENTITY_RUNTIME_ADMIN_KEY"];
  if (file !== undefined) {
    try {
      adminKey = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      exitWith(`--admin-key-file ${file} cannot be read: ${messageOf(error)}`);
    }
  }
  if (adminKey === undefined || (adminKey === "" && file === undefined)) return undefined;
  const problem = adminKeyProblem(adminKey, apiKey);
  if (problem !== undefined) exitWith(problem);
  return adminKey;
}

/** The storage `--storage` names; undefined for memory, each part of the runtime then keeps its own. */
function storageOf(kind: string): StorageAdapter | undefined {
  if (kind === "memory") return undefined;
  if (kind.startsWith("sqlite:") && kind.length > "sqlite:".length) {
    return sqliteStorage({ filename: kind.slice("sqlite:".length) });
  }
  if (kind === "postgres" || kind.startsWith("postgres:")) {
    const given = kind.slice("postgres:".length);
    const connectionString = given === "" ? process.env["DATABASE_URL"] : given;
    if (connectionString === undefined)
      exitWith("--storage postgres: needs a connection string or DATABASE_URL");
    return postgresStorage({ connectionString });
  }
  return exitWith(
    `--storage ${kind} is not a storage: memory, sqlite:<file> or postgres:<connection string>`,
  );
}

/** The webhooks configuration in `file`, or exit: unreadable, not JSON, or not a valid configuration. */
function webhooksOf(file: string): WebhooksConfig {
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    exitWith(`--webhooks ${file} cannot be read as JSON: ${messageOf(error)}`);
  }
  const problems = webhooksConfigProblems(config);
  if (problems.length > 0) exitWith(`--webhooks ${file}:\n  ${problems.join("\n  ")}`);
  return config as WebhooksConfig;
}

/** The options of `serve`; a malformed command line is a usage error (exit 2), like every other. */
function parseOptions(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        port: { type: "string", default: "8080" },
        host: { type: "string", default: "127.0.0.1" },
        "api-key": { type: "string" },
        "api-key-file": { type: "string" },
        storage: { type: "string", default: "memory" },
        identity: { type: "string" },
        webhooks: { type: "string" },
        "admin-key-file": { type: "string" },
        "shutdown-grace": { type: "string", default: "10" },
        help: { type: "boolean", default: false },
      },
      strict: true,
    });
  } catch (error) {
    return exitWith(messageOf(error));
  }
}

/**
 * Serves `handler` until SIGTERM or SIGINT, then stops gracefully: no new connections and no keep-alive,
 * requests in flight get `graceMs` to finish (then their connections are closed), `close` releases what the
 * command opened, and the process exits 0 (1 when closing failed or took another grace period).
 */
function runUntilSignalled(options: {
  handler: (request: IncomingMessage, response: ServerResponse) => void;
  port: number;
  host: string;
  graceMs: number;
  /** The fields of the "listening" log line, given the URL. */
  listening: (url: string) => Record<string, unknown>;
  /** Called at once on the signal, before the server waits for requests in flight. */
  stopping: () => void;
  close: () => Promise<void>;
}): void {
  const { handler, port, host, graceMs } = options;
  let stopping = false;
  const server = createServer(
    // Timeouts are checked every second, so a slow client is cut off close to the time it is given.
    {
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: 1_000,
    },
    (request, response) => {
      // While shutting down, no connection is kept alive: clients reconnect elsewhere, and close() can finish.
      if (stopping) response.setHeader("connection", "close");
      // A request that came before the signal leaves its connection idle when done: close it then, not later.
      response.once("finish", () => {
        if (stopping) server.closeIdleConnections();
      });
      handler(request, response);
    },
  );
  server.on("error", (error) => {
    log("error", "could not listen", { error: messageOf(error) });
    process.exit(1);
  });
  server.listen(port, host, () => {
    const address = server.address();
    const listening = typeof address === "object" && address !== null ? address.port : port;
    log("info", "listening", options.listening(`http://${host}:${listening}`));
  });
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "shutting down", { signal });
    options.stopping();
    server.close(() => {
      options.close().then(
        () => {
          log("info", "stopped");
          process.exit(0);
        },
        (error: unknown) => {
          log("error", "could not close cleanly", { error: messageOf(error) });
          process.exit(1);
        },
      );
    });
    server.closeIdleConnections();
    // A client that keeps a request going (a trickled body) does not hold the shutdown up for longer.
    setTimeout(() => {
      log("warn", "closing connections still busy after the shutdown grace period", { graceMs });
      server.closeAllConnections();
      // A call stuck on a storage that stopped answering must not keep the process from stopping either.
      setTimeout(
        () => {
          log("error", "could not close in time after the shutdown grace period; exiting anyway", {
            graceMs,
          });
          process.exit(1);
        },
        Math.max(graceMs, 2_000),
      ).unref();
    }, graceMs).unref();
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseOptions(args);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = decimal("--port", values.port, 65_535);
  if (values.host === "") exitWith('--host must name an address; "" would listen on every interface');
  const graceMs = decimal("--shutdown-grace", values["shutdown-grace"], 3_600) * 1_000;
  const apiKey = apiKeyOf(values["api-key"], values["api-key-file"]);
  const adminKey = adminKeyOf(values["admin-key-file"], apiKey);
  const webhooksConfig = values.webhooks === undefined ? undefined : webhooksOf(values.webhooks);
  const storage = storageOf(values.storage ?? "memory");

  // One storage for the runtime and its Backbone: their collections never collide, and a restart finds both.
  const backbone = new LocalBackbone(storage === undefined ? {} : { storage });
  const runtime = await createRuntime({
    backbone,
    eventJournal: true,
    ...(storage === undefined ? {} : { storage }),
    ...(values.identity === undefined ? {} : { name: values.identity }),
  });
  const webhooks =
    webhooksConfig === undefined
      ? undefined
      : await startWebhooks(runtime, webhooksConfig, {
          onDeliveryError: (error, target, event) =>
            event === undefined
              ? log("error", "webhooks could not read the event journal", { target, error: messageOf(error) })
              : log("warn", "webhook delivery failed; retrying", {
                  target,
                  seq: event.seq,
                  trigger: event.name,
                  error: messageOf(error),
                }),
        });
  const shutdown = new AbortController();
  const logRequest = (entry: RequestLogEntry): void =>
    log("info", "request", { ...entry, ms: Math.round(entry.ms * 100) / 100 });
  const api = createHttpHandler(runtime, { apiKey, signal: shutdown.signal, onResponse: logRequest });
  const admin =
    adminKey === undefined
      ? undefined
      : createAdminHandler(backbone.admin, {
          adminKey,
          onResponse: (entry) =>
            log("info", "admin request", { ...entry, ms: Math.round(entry.ms * 100) / 100 }),
        });
  const adminUi =
    adminKey === undefined
      ? undefined
      : createAdminUiHandler(backbone, {
          adminKey,
          onResponse: (entry) =>
            log("info", "admin ui request", { ...entry, ms: Math.round(entry.ms * 100) / 100 }),
        });
  // The admin routes and the UI have prefixes of their own; without an admin key they are not there at all.
  const handler: typeof api = (request, response) => {
    const path = parseTarget(request.url)?.path ?? "";
    if (adminUi !== undefined && /^\/admin-ui(?:\/|$)/.test(path)) return adminUi(request, response);
    return admin !== undefined && /^\/admin(?:\/|$)/.test(path)
      ? admin(request, response)
      : api(request, response);
  };
  runUntilSignalled({
    handler,
    port,
    host: values.host,
    graceMs,
    listening: (url) => ({
      url,
      identity: runtime.address,
      ...(values.identity === undefined ? {} : { name: values.identity }),
    }),
    // Event streams end at once: they would never finish by themselves.
    stopping: () => shutdown.abort(),
    // Then the webhooks, the runtime and the Backbone, once the requests in flight have finished.
    close: async () => {
      await webhooks?.close();
      await runtime.close();
      await backbone.close();
      await storage?.close();
    },
  });
}

/**
 * `identity-runtime admin`: the Admin UI and the admin routes on the Backbone's storage, for operators. No
 * runtime and no webhooks, so it needs no identity and stops at once: its requests are short reads and starts.
 */
function adminServer(args: string[]): void {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: "string", default: "8081" },
        host: { type: "string", default: "127.0.0.1" },
        storage: { type: "string", default: "memory" },
        "admin-key": { type: "string" },
        "admin-key-file": { type: "string" },
        "secure-cookies": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    return exitWith(messageOf(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = decimal("--port", values.port, 65_535);
  if (values.host === "") exitWith('--host must name an address; "" would listen on every interface');
  const given = values["admin-key"];
  if (given !== undefined && values["admin-key-file"] !== undefined)
    exitWith("give --admin-key or --admin-key-file, not both");
  if (given !== undefined) {
    const problem = adminKeyProblem(given);
    if (problem !== undefined) exitWith(problem);
    log(
      "warn",
      "--admin-key is visible to other users in ps; prefer --admin-key-file or IDENTITY_RUNTIME_ADMIN_KEY",
    );
  }
  const adminKey = given ?? adminKeyOf(values["admin-key-file"]);
  if (adminKey === undefined || adminKey === "")
    exitWith("an admin key is required: --admin-key-file, IDENTITY_RUNTIME_ADMIN_KEY or --admin-key");
  const storage = storageOf(values.storage ?? "memory");
  const backbone = new LocalBackbone(storage === undefined ? {} : { storage });
  const logRequest = (entry: RequestLogEntry): void =>
    log("info", "request", { ...entry, ms: Math.round(entry.ms * 100) / 100 });
  const ui = createAdminUiHandler(backbone, {
    adminKey,
    secureCookies: values["secure-cookies"],
    onResponse: logRequest,
  });
  const admin = createAdminHandler(backbone.admin, { adminKey, onResponse: logRequest });
  runUntilSignalled({
    handler: (request, response) => {
      const path = parseTarget(request.url)?.path ?? "/";
      if (path === "/") {
        response.writeHead(303, { location: "/admin-ui/" }).end();
        return;
      }
      (/^\/admin(?:\/|$)/.test(path) ? admin : ui)(request, response);
    },
    port,
    host: values.host,
    // Its requests are short reads and starts: a few seconds are plenty.
    graceMs: 5_000,
    listening: (url) => ({ url: `${url}/admin-ui/` }),
    stopping: () => undefined,
    close: async () => {
      await backbone.close();
      await storage?.close();
    },
  });
}

const [command, ...rest] = process.argv.slice(2);
if (command === "serve") {
  serve(rest).catch((error: unknown) => {
    log("error", "could not start", { error: messageOf(error) });
    process.exit(1);
  });
} else if (command === "admin") {
  adminServer(rest);
} else if (command === undefined || command === "--help" || command === "help") {
  process.stdout.write(`${USAGE}\n`);
} else {
  exitWith(`unknown command ${command}`);
}
