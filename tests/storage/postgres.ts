// What the PostgreSQL tests share: the server from DATABASE_URL, a describe() that runs only when it is there
// (and fails in CI when it is not), fresh schemas dropped after each test, and queries bypassing the adapter.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Client } from "pg";
import type { QueryResultRow } from "pg";

/** The server the PostgreSQL tests run against, if any: `DATABASE_URL`. */
export function postgresUrl(): string | undefined {
  const url = process.env["DATABASE_URL"];
  return url === undefined || url === "" ? undefined : url;
}

let reachability: string | true | undefined;
let noted = false;

/**
 * Whether a server answers at `DATABASE_URL`: `true`, or why not. Checked once, synchronously (in a child
 * process), because Jest collects describe blocks synchronously.
 */
function reachable(): string | true {
  if (reachability !== undefined) return reachability;
  const url = postgresUrl();
  if (url === undefined) return (reachability = "DATABASE_URL is not set");
  const probe = spawnSync(
    process.execPath,
    [
      "-e",
      `const { Client } = require("pg");
       const client = new Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 });
       client.connect().then(() => client.query("SELECT 1")).then(
         () => client.end().then(() => process.exit(0)),
         (error) => { console.error(error.message); process.exit(1); });`,
    ],
    {
      cwd: join(__dirname, "..", ".."),
      env: { ...process.env, DATABASE_URL: url },
      encoding: "utf8",
      timeout: 15_000,
    },
  );
  reachability =
    probe.status === 0
      ? true
      : `no PostgreSQL server answered at DATABASE_URL (${probe.stderr.trim() || probe.error?.message || "no answer"})`;
  return reachability;
}

/**
 * `describe` for tests that need PostgreSQL. Without a reachable server it skips them with a note, except in
 * CI (`CI=true`), where it fails: there, skipped PostgreSQL tests would pass as green while testing nothing.
 * Schemas made by `freshSchema()` in its tests are dropped after each test.
 */
export function describePostgres(name: string, fn: () => void): void {
  const status = reachable();
  if (status !== true) {
    if (process.env["CI"] === "true") {
      describe(name, () => {
        test("a PostgreSQL server is reachable (required when CI=true)", () => {
          throw new Error(`${status}. In CI the PostgreSQL tests must run: .ci/run starts a server.`);
        });
      });
    } else {
      if (!noted) console.log(`Skipping the PostgreSQL tests: ${status}. Set DATABASE_URL to run them.`);
      noted = true;
      describe.skip(name, fn);
    }
    return;
  }
  describe(name, () => {
    afterEach(dropFreshSchemas);
    fn();
  });
}

/** The connection string of the reachable server; only for use inside `describePostgres`. */
export function databaseUrl(): string {
  const url = postgresUrl();
  if (url === undefined) throw new Error("DATABASE_URL is not set");
  return url;
}

const created: string[] = [];

/** A schema name no other test (or test process) uses; dropped with all it holds after the test. */
export function freshSchema(): string {
  const schema = `test_${process.pid}_${randomBytes(6).toString("hex")}`;
  created.push(schema);
  return schema;
}

async function dropFreshSchemas(): Promise<void> {
  const schemas = created.splice(0);
  if (schemas.length === 0) return;
  await adminQuery(schemas.map((schema) => `DROP SCHEMA IF EXISTS "${schema}" CASCADE;`).join("\n"));
}

/** One query on a connection of its own, bypassing the adapter under test. */
export async function adminQuery<R extends QueryResultRow = QueryResultRow>(
  text: string,
  values?: unknown[],
): Promise<R[]> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
