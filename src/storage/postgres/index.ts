import { SlotTakenError, StorageFailure } from "../../core/storage.js";
import type { StorageAdapter, StorageChange, StorageOperations, StoredRecord } from "../../core/storage.js";
import { SchemaVersionFailure, toStored } from "../sql/records.js";
import type { RecordRow } from "../sql/records.js";
import { failure, OwnFailure, retrying, withClient } from "./connection.js";
import type { TransactionMode } from "./connection.js";
import { loadPg } from "./driver.js";
import type { PgPool, PgPoolClient, PgQueryable, PgResult } from "./driver.js";
import { createSchema, tablesOf } from "./schema.js";
import type { Tables } from "./schema.js";
import { UpsertGroups } from "./upsert-groups.js";
import { commitWithin, slotKey, upsertIntoSlot, upsertKeepingPeers } from "./writes.js";
import type { SlotUpsert } from "./writes.js";
import { NotificationListener } from "./listener.js";
import { Subscribers } from "../subscribers.js";
import type { TopicListener } from "../subscribers.js";

export type { PgPool as PostgresPool } from "./driver.js";

/**
 * Where the tables are, and how long a statement may take.
 * @inline
 */
interface PostgresStorageCommonOptions {
  /**
   * The schema holding the tables, created when missing; default `"public"`. Runtimes and LocalBackbones may
   * share one schema (their records are scoped by identity) or keep to schemas of their own.
   */
  schema?: string;
}

/**
 * Where `postgresStorage` keeps its records: a database it connects to (with a pool it makes and ends), or a
 * pool of yours; and in which schema.
 * @example
 * const options: PostgresStorageOptions = {
 *   connectionString: "postgres://user:password@db.example.com:5432/identities",
 *   schema: "identities",
 *   queryTimeoutMs: 5_000,
 * };
 * const storage = postgresStorage(options);
 */
export type PostgresStorageOptions = PostgresStorageCommonOptions &
  (
    | {
        /** Where the database is, e.g. `postgres://user:password@db.example.com:5432/identities`. */
        connectionString: string;
        /**
         * How long one statement (and getting a connection) may take before the call fails with
         * `StorageFailure`; default 10,000 ms. A server that stops answering then fails calls instead of
         * holding them forever.
         */
        queryTimeoutMs?: number;
      }
    | {
        /**
         * A `pg` Pool of your own, e.g. shared with the rest of your app. It stays yours: `close()` does not
         * end it, and its own settings (timeouts among them) apply.
         */
        pool: PgPool;
      }
  );

const DEFAULT_QUERY_TIMEOUT_MS = 10_000;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;
// PostgreSQL truncates identifiers longer than this, which would silently merge two schemas into one.
const MAX_IDENTIFIER_LENGTH = 63;

/**
 * The shared choice: records in PostgreSQL tables, so that several processes and hosts can serve the same
 * identities. Connects on first use (the factory itself does no I/O) and creates its tables then, in
 * `schema`. Needs the `pg` package, an optional peer dependency loaded only by this adapter (or a pool of
 * yours).
 *
 * Every guarantee is the database's: a slot is a unique constraint (concurrent writers from any number of
 * processes leave one record in it), a unit of work is a transaction, and a write is durable once its call
 * resolves. A call that loses its connection before anything can have been applied is retried on a new one;
 * otherwise, or while the server stays away, it fails with `StorageFailure`, and a later call reconnects.
 * @example
 * const storage = postgresStorage({ connectionString: process.env.DATABASE_URL ?? "", schema: "identities" });
 * const backbone = new LocalBackbone({ storage });
 * const runtime = await createRuntime({ backbone, storage });
 */
export function postgresStorage(options: PostgresStorageOptions): StorageAdapter {
  const schema = options.schema ?? "public";
  if (!SCHEMA_NAME.test(schema) || schema.length > MAX_IDENTIFIER_LENGTH) {
    throw new RangeError(
      `schema must be a lowercase identifier of at most ${MAX_IDENTIFIER_LENGTH} characters (${SCHEMA_NAME.source}), not ${JSON.stringify(schema)}`,
    );
  }
  if ("pool" in options) {
    if (typeof options.pool?.query !== "function" || typeof options.pool.connect !== "function") {
      throw new TypeError("pool must be a pg Pool");
    }
    return new PostgresStorage(tablesOf(schema), { pool: options.pool });
  }
  if (typeof options.connectionString !== "string" || options.connectionString === "") {
    throw new TypeError("connectionString must be a non-empty string");
  }
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  if (!Number.isSafeInteger(queryTimeoutMs) || queryTimeoutMs < 1) {
    throw new RangeError("queryTimeoutMs must be a whole number of milliseconds ≥ 1");
  }
  return new PostgresStorage(tablesOf(schema), {
    connectionString: options.connectionString,
    queryTimeoutMs,
  });
}

/** Where the connections come from: a pool of the caller's, or one this adapter makes (and ends). */
type PoolSource = { pool: PgPool } | { connectionString: string; queryTimeoutMs: number };

class PostgresStorage implements StorageAdapter {
  readonly #tables: Tables;
  readonly #source: PoolSource;
  #pool: PgPool | undefined;
  /** Resolves once the pool exists and the tables are there; cleared after a failure that may pass. */
  #ready: Promise<PgPool> | undefined;
  /** A failure no retry can mend (no driver, a newer schema): every call rejects with it. */
  #permanentFailure: StorageFailure | undefined;
  #closed = false;
  /** Reads outside transactions: one statement each, on any pooled connection. */
  readonly #reads: Reads;
  readonly #subscribers = new Subscribers();
  readonly #listener: NotificationListener;
  /** How long a scoped transaction waits for a lock, or sits idle holding its own: the query timeout. */
  readonly #lockLimitMs: number;
  /** The upserts outside transactions, written in groups. */
  readonly #upserts = new UpsertGroups((upserts) => this.#upsertGroup(upserts));

  constructor(tables: Tables, source: PoolSource) {
    this.#tables = tables;
    this.#source = source;
    this.#lockLimitMs = "pool" in source ? DEFAULT_QUERY_TIMEOUT_MS : source.queryTimeoutMs;
    this.#reads = readsOn(tables, { query: (text, values) => this.#query(text, values) });
    this.#listener = new NotificationListener({
      pool: () => this.#open(),
      schema: tables.schema,
      subscribers: this.#subscribers,
    });
  }

  get(collection: string, id: string): Promise<StoredRecord | undefined> {
    return this.#reads.get(collection, id);
  }

  getBySlot(collection: string, slot: string): Promise<StoredRecord | undefined> {
    return this.#reads.getBySlot(collection, slot);
  }

  list(collection: string): Promise<StoredRecord[]> {
    return this.#reads.list(collection);
  }

  listByPeer(collection: string, peer: string): Promise<StoredRecord[]> {
    return this.#reads.listByPeer(collection, peer);
  }

  hasPeer(collection: string, peer: string): Promise<boolean> {
    return this.#reads.hasPeer(collection, peer);
  }

  /**
   * One statement, no transaction around it (it is atomic by itself), grouped with the upserts of other
   * callers that arrive while earlier groups are being written: see `UpsertGroups`.
   */
  async upsertBySlot(
    collection: string,
    record: StoredRecord & { readonly slot: string },
  ): Promise<StoredRecord> {
    return stored(await this.#upserts.upsert(collection, record));
  }

  async commit(changes: readonly StorageChange[]): Promise<number[]> {
    if (changes.length === 0) {
      await this.#open();
      return [];
    }
    return this.#transaction((client) => commitWithin(client, this.#tables, changes));
  }

  /**
   * One transaction on one connection. Without a scope it is SERIALIZABLE: PostgreSQL fails whichever of two
   * racing transactions would make the outcome differ from some order of running them one at a time, and the
   * loser's `work` is run again from the start, seeing the winner's writes. That check works on index pages,
   * so on small tables unrelated transactions fail each other too. With a scope it is READ COMMITTED, after
   * taking a transaction-level advisory lock per name of the scope, in one order for all (so they never
   * deadlock each other): what belongs to the scope cannot change under it, and nothing else makes it fail.
   */
  transaction<T>(work: (tx: StorageOperations) => Promise<T>, scope?: readonly string[]): Promise<T> {
    const scoped = scope !== undefined && scope.length > 0;
    return this.#transaction(
      async (client) => {
        if (scoped) await lockScope(client, this.#tables, scope);
        // What the statements threw goes to `retrying`, which may run `work` again; what `work` threw by
        // itself leaves as it is.
        const thrownByStatements = new WeakSet<object>();
        // One connection runs one statement at a time: calls of `work` made side by side take turns.
        let previous: Promise<unknown> = Promise.resolve();
        // After a failed statement PostgreSQL refuses the rest of the transaction: they fail as the first did,
        // so that the failure `retrying` judges is the one that matters (a serialization failure, say).
        let failed: Error | undefined;
        const statement = <R>(run: () => Promise<R>): Promise<R> => {
          const attempt = () => (failed === undefined ? run() : Promise.reject(failed));
          const result = previous.then(attempt, attempt).catch((error: unknown) => {
            if (!(error instanceof SlotTakenError) && error instanceof Error) failed ??= error;
            if (typeof error === "object" && error !== null) thrownByStatements.add(error);
            throw error;
          });
          previous = result.catch(() => undefined);
          return result;
        };
        const reads = readsOn(this.#tables, client);
        const tx: StorageOperations = {
          get: (collection, id) => statement(() => reads.get(collection, id)),
          getBySlot: (collection, slot) => statement(() => reads.getBySlot(collection, slot)),
          list: (collection) => statement(() => reads.list(collection)),
          listByPeer: (collection, peer) => statement(() => reads.listByPeer(collection, peer)),
          hasPeer: (collection, peer) => statement(() => reads.hasPeer(collection, peer)),
          upsertBySlot: async (collection, record) =>
            stored(
              await statement(async () => {
                const upsert = { collection, record };
                const kept = await upsertKeepingPeers(client, this.#tables, [upsert]);
                return (
                  kept.get(slotKey(collection, record.slot)) ??
                  (await upsertIntoSlot(client, this.#tables, upsert))
                );
              }),
            ),
          commit: (changes) => statement(() => commitWithin(client, this.#tables, changes)),
        };
        try {
          const result = await work(tx);
          // A statement failed and `work` went on regardless: PostgreSQL would roll the transaction back at COMMIT
          // without a word, so it fails (and is run again if that failure calls for it).
          if (failed !== undefined) throw failed;
          return result;
        } catch (error) {
          if (typeof error === "object" && error !== null && thrownByStatements.has(error)) throw error;
          throw new OwnFailure(error);
        }
      },
      scoped
        ? { isolation: "READ COMMITTED", lockLimitMs: this.#lockLimitMs }
        : { isolation: "SERIALIZABLE" },
    );
  }

  /**
   * Topics come through PostgreSQL's LISTEN/NOTIFY, from every process on the database, this one included: a
   * connection of the pool listens while anyone subscribes.
   */
  subscribe(listener: TopicListener): () => void {
    const unsubscribe = this.#subscribers.add(listener);
    if (!this.#closed) this.#listener.start();
    return () => {
      unsubscribe();
      if (!this.#subscribers.any) this.#listener.stop();
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.stop();
    this.#subscribers.clear();
    try {
      await this.#ready;
    } catch {
      // It failed to open: there may be a pool to end all the same.
    }
    const pool = this.#pool;
    this.#pool = undefined;
    // A pool handed in stays its owner's to end.
    if (!("pool" in this.#source)) await pool?.end();
  }

  /** One statement on any pooled connection. Only reads come this way, so a lost connection is retried. */
  /**
   * A group of upserts: one statement for those of new slots or unchanged peers, outside any transaction; a
   * transaction for those whose peers change, which rewrites their peer rows after locking their records.
   */
  async #upsertGroup(upserts: readonly SlotUpsert[]): Promise<Record<string, unknown>[]> {
    const pool = await this.#open();
    // An upsert is idempotent: one whose connection was lost may be written again, committed or not.
    const written = await retrying(() => upsertKeepingPeers(pool, this.#tables, upserts));
    const changing = upserts.filter((upsert) => !written.has(slotKey(upsert.collection, upsert.record.slot)));
    if (changing.length > 0) {
      const rows = await this.#transaction(async (client) => {
        const rewritten: Record<string, unknown>[] = [];
        for (const upsert of changing) rewritten.push(await upsertIntoSlot(client, this.#tables, upsert));
        return rewritten;
      });
      changing.forEach((upsert, index) =>
        written.set(slotKey(upsert.collection, upsert.record.slot), rows[index] as Record<string, unknown>),
      );
    }
    return upserts.map(
      (upsert) => written.get(slotKey(upsert.collection, upsert.record.slot)) as Record<string, unknown>,
    );
  }

  async #query(text: string, values?: readonly unknown[]): Promise<PgResult> {
    const pool = await this.#open();
    return retrying(() => pool.query(text, values));
  }

  /** Runs `work` in a transaction on one pooled connection: committed if it resolves, rolled back if it throws. */
  async #transaction<T>(
    work: (client: PgPoolClient) => Promise<T>,
    mode: TransactionMode = { isolation: "READ COMMITTED" },
  ): Promise<T> {
    const pool = await this.#open();
    return retrying((attempt) => withClient(pool, work, attempt, mode));
  }

  /** The pool, once the driver is loaded and the tables exist. */
  async #open(): Promise<PgPool> {
    if (this.#closed) throw closedFailure();
    if (this.#permanentFailure !== undefined) throw this.#permanentFailure;
    if (this.#ready === undefined) {
      const ready = this.#connect();
      this.#ready = ready;
      // A failure that may pass (the server is down) is retried by the next call.
      ready.catch(() => {
        if (this.#ready === ready) this.#ready = undefined;
      });
    }
    return this.#ready;
  }

  async #connect(): Promise<PgPool> {
    this.#pool ??= await this.#makePool();
    const pool = this.#pool;
    try {
      await retrying((attempt) =>
        withClient(pool, (client) => createSchema(client, this.#tables), attempt, {
          isolation: "READ COMMITTED",
        }),
      );
    } catch (error) {
      // A schema this version cannot open stays refused: no retry mends it.
      if (error instanceof SchemaVersionFailure) this.#permanentFailure = error;
      throw failure(error);
    }
    return pool;
  }

  async #makePool(): Promise<PgPool> {
    if ("pool" in this.#source) return this.#source.pool;
    const pg = await loadPg().catch((error: unknown) => {
      this.#permanentFailure = failure(error);
      throw this.#permanentFailure;
    });
    // close() may have run while the driver loaded.
    if (this.#closed) throw closedFailure();
    const pool = new pg.Pool({
      connectionString: this.#source.connectionString,
      application_name: "identity-runtime",
      query_timeout: this.#source.queryTimeoutMs,
      connectionTimeoutMillis: this.#source.queryTimeoutMs,
      // Notices a peer that vanished without closing the connection (a host gone, a network cut).
      keepAlive: true,
    });
    // An idle connection that breaks (server restart, terminated backend) is dropped by the pool and replaced
    // on demand; the error itself has no call to fail, and must not become an uncaught exception.
    pool.on("error", () => undefined);
    return pool;
  }
}

type Reads = Pick<StorageOperations, "get" | "getBySlot" | "list" | "listByPeer" | "hasPeer">;

/** The reads, on a pool (any connection) or on the connection of a transaction. */
function readsOn(tables: Tables, db: PgQueryable): Reads {
  const columns = "id, slot, peers, data";
  return {
    async get(collection, id) {
      const { rows } = await db.query(
        `SELECT ${columns} FROM ${tables.records} WHERE collection = $1 AND id = $2`,
        [collection, id],
      );
      return rows[0] === undefined ? undefined : stored(rows[0]);
    },
    async getBySlot(collection, slot) {
      const { rows } = await db.query(
        `SELECT ${columns} FROM ${tables.records} WHERE collection = $1 AND slot = $2`,
        [collection, slot],
      );
      return rows[0] === undefined ? undefined : stored(rows[0]);
    },
    async list(collection) {
      const { rows } = await db.query(
        `SELECT ${columns} FROM ${tables.records} WHERE collection = $1 ORDER BY seq`,
        [collection],
      );
      return rows.map(stored);
    },
    async listByPeer(collection, peer) {
      const { rows } = await db.query(
        `SELECT r.id, r.slot, r.peers, r.data FROM ${tables.records} r
           JOIN ${tables.peerRows} p ON p.collection = r.collection AND p.id = r.id
          WHERE p.collection = $1 AND p.peer = $2
          ORDER BY r.seq`,
        [collection, peer],
      );
      return rows.map(stored);
    },
    async hasPeer(collection, peer) {
      const { rows } = await db.query(
        `SELECT 1 FROM ${tables.peerRows} WHERE collection = $1 AND peer = $2 LIMIT 1`,
        [collection, peer],
      );
      return rows.length > 0;
    },
  };
}

/**
 * Takes the advisory locks of a scope's names, held until the transaction ends. The names are hashed (with
 * the schema, so schemas do not wait for each other) and locked in the order of their hashes, the same order
 * in every transaction. PostgreSQL evaluates a volatile function of the select list after sorting.
 */
async function lockScope(client: PgPoolClient, tables: Tables, scope: readonly string[]): Promise<void> {
  await client.query(
    `SELECT pg_advisory_xact_lock(h)
       FROM (SELECT DISTINCT hashtextextended($1 || ' ' || name, 0) AS h FROM unnest($2::text[]) AS name) AS keys
      ORDER BY h`,
    [tables.schema, scope],
  );
}

function stored(row: Record<string, unknown>): StoredRecord {
  return toStored(row as unknown as RecordRow);
}

function closedFailure(): StorageFailure {
  return new StorageFailure("identity-runtime: the PostgreSQL storage has been closed.");
}
