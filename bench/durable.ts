// Durable writes: IdentityMetadata upserts through the facade on SQLite and on PostgreSQL, at concurrency 1, 16
// and 64, against the raw driver doing the same durable write, one `INSERT … ON CONFLICT … RETURNING` per
// acknowledged upsert, in the same run. PostgreSQL is measured when DATABASE_URL names a server.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { createRuntime, LocalBackbone, postgresStorage, sqliteStorage } from "identity-runtime";
import type { StorageAdapter } from "identity-runtime";
import { keyFor, valueFor } from "./subjects.js";

export interface DurableRun {
  storage: "sqlite" | "postgres";
  concurrency: number;
  subject: "facade" | "raw";
  opsPerSec: number;
}

const CONCURRENCY = [1, 16, 64];
const SLOTS = 1_000;

/** One durable upsert of slot `i % SLOTS`; resolves once it is acknowledged. */
type Upsert = (i: number) => Promise<void>;

interface Subject {
  upsert: Upsert;
  close(): Promise<void>;
}

/** Upserts per second from `concurrency` loops sharing `total` upserts. */
async function measure(upsert: Upsert, concurrency: number, total: number): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await upsert(next++);
    }),
  );
  return Math.round(total / (Number(process.hrtime.bigint() - started) / 1e9));
}

async function facade(storage: StorageAdapter): Promise<Subject> {
  const backbone = new LocalBackbone({ storage });
  const runtime = await createRuntime({ backbone, storage });
  return {
    async upsert(i) {
      const result = await runtime.identityMetadata.upsertIdentityMetadata({
        reference: runtime.address,
        key: keyFor(i % SLOTS),
        value: valueFor(i),
      });
      if (result.err) throw new Error(result.val.message);
    },
    async close() {
      await runtime.close();
      await backbone.close();
      await storage.close();
    },
  };
}

function rawSqlite(filename: string): Subject {
  const db = new Database(filename);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE IF NOT EXISTS raw (slot TEXT PRIMARY KEY, data TEXT NOT NULL)");
  const statement = db.prepare(
    "INSERT INTO raw (slot, data) VALUES (?, ?) ON CONFLICT (slot) DO UPDATE SET data = excluded.data RETURNING slot, data",
  );
  return {
    // Asynchronous like every caller of a server is: the driver itself answers synchronously.
    upsert: async (i) => {
      await Promise.resolve();
      statement.get(keyFor(i % SLOTS), JSON.stringify(valueFor(i)));
    },
    close: () => Promise.resolve(void db.close()),
  };
}

async function rawPostgres(connectionString: string, table: string): Promise<Subject> {
  const pool = new pg.Pool({ connectionString });
  await pool.query(`CREATE TABLE ${table} (slot TEXT PRIMARY KEY, data TEXT NOT NULL)`);
  return {
    upsert: async (i) => {
      await pool.query(
        `INSERT INTO ${table} (slot, data) VALUES ($1, $2) ON CONFLICT (slot) DO UPDATE SET data = excluded.data RETURNING slot, data`,
        [keyFor(i % SLOTS), JSON.stringify(valueFor(i))],
      );
    },
    close: async () => {
      await pool.query(`DROP TABLE ${table}`);
      await pool.end();
    },
  };
}

/** Facade and raw, alternating per concurrency so that neither gets the quieter moments of the run. */
async function compare(
  storage: DurableRun["storage"],
  make: (subject: DurableRun["subject"]) => Promise<Subject>,
  total: number,
): Promise<DurableRun[]> {
  const runs: DurableRun[] = [];
  for (const concurrency of CONCURRENCY) {
    for (const subject of ["raw", "facade"] as const) {
      const made = await make(subject);
      try {
        await measure(made.upsert, concurrency, SLOTS); // every slot exists: the measured writes update
        runs.push({
          storage,
          concurrency,
          subject,
          opsPerSec: await measure(made.upsert, concurrency, total),
        });
      } finally {
        await made.close();
      }
    }
    console.error(`measured durable ${storage} at concurrency ${concurrency}`);
  }
  return runs;
}

export async function measureDurable({ quick }: { quick: boolean }): Promise<DurableRun[]> {
  const total = quick ? 2_000 : 6_000;
  const directory = mkdtempSync(join(tmpdir(), "identity-runtime-durable-"));
  let files = 0;
  try {
    const runs = await compare(
      "sqlite",
      async (subject) => {
        const filename = join(directory, `${subject}-${files++}.db`);
        return subject === "raw" ? rawSqlite(filename) : facade(sqliteStorage({ filename }));
      },
      total,
    );
    const url = process.env["DATABASE_URL"];
    if (url !== undefined && url !== "") {
      let schemas = 0;
      runs.push(
        ...(await compare(
          "postgres",
          async (subject) => {
            const name = `bench_durable_${process.pid}_${schemas++}`;
            if (subject === "raw") return rawPostgres(url, name);
            const made = await facade(postgresStorage({ connectionString: url, schema: name }));
            return {
              upsert: made.upsert,
              async close() {
                await made.close();
                const admin = new pg.Client({ connectionString: url });
                await admin.connect();
                await admin.query(`DROP SCHEMA ${name} CASCADE`);
                await admin.end();
              },
            };
          },
          total,
        )),
      );
    }
    return runs;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
