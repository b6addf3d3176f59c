import { SlotTakenError, StorageFailure } from "../core/storage.js";
import type { StorageAdapter, StorageChange, StoredRecord } from "../core/storage.js";

export interface PostgresStorageOptions {
  /** Where the database is, e.g. `postgres://user:password@db.example.com:5432/identities`. */
  connectionString: string;
  /**
   * The schema holding the tables, created when missing; default `"public"`. Runtimes and LocalBackbones may
   * share one schema (their records are scoped by identity) or keep to schemas of their own.
   */
  schema?: string;
  /**
   * How long one statement (and getting a connection) may take before the call fails with `StorageFailure`;
   * default 10,000 ms. A server that stops answering then fails calls instead of holding them forever.
   */
  queryTimeoutMs?: number;
}

const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/** The schema version this code writes; a database written by a newer one is refused, never altered. */
const SCHEMA_VERSION = 1;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;
// PostgreSQL truncates identifiers longer than this, which would silently merge two schemas into one.
const MAX_IDENTIFIER_LENGTH = 63;
const SLOT_CONSTRAINT = "identity_runtime_records_slot_key";
const UNIQUE_VIOLATION = "23505";
const DEADLOCK_DETECTED = "40P01";
// Pauses before the retries of a call that lost its connection or was chosen as a deadlock's victim.
const RETRY_DELAYS_MS = [0, 10, 50];
// Parameters of one multi-row statement are arrays, so a batch costs one round trip however long it is.
const MAX_BATCH = 5_000;

/** The part of `pg` this adapter uses: declared here, so that `pg` stays an optional peer dependency. */
interface PgResult {
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number | null;
}

interface PgQueryable {
  query(text: string, values?: readonly unknown[]): Promise<PgResult>;
}

interface PgPoolClient extends PgQueryable {
  release(destroy?: boolean | Error): void;
  on(event: "error", listener: (error: Error) => void): unknown;
  removeListener(event: "error", listener: (error: Error) => void): unknown;
}

interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  on(event: "error", listener: (error: Error) => void): unknown;
}

interface PgModule {
  Pool: new (config: {
    connectionString: string;
    application_name?: string;
    query_timeout?: number;
    connectionTimeoutMillis?: number;
    keepAlive?: boolean;
  }) => PgPool;
}

/** Column values as PostgreSQL returns them. */
interface RecordRow {
  id: string;
  slot: string | null;
  peers: string | null;
  data: string;
}

/**
 * The shared choice: records in PostgreSQL tables, so that several processes and hosts can serve the same
 * identities. Connects on first use (the factory itself does no I/O) and creates its tables then, in
 * `schema`. Needs the `pg` package, an optional peer dependency loaded only by this adapter.
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
  if (typeof options.connectionString !== "string" || options.connectionString === "") {
    throw new TypeError("connectionString must be a non-empty string");
  }
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  if (!Number.isSafeInteger(queryTimeoutMs) || queryTimeoutMs < 1) {
    throw new RangeError("queryTimeoutMs must be a whole number of milliseconds ≥ 1");
  }
  return new PostgresStorage(options.connectionString, schema, queryTimeoutMs);
}

class PostgresStorage implements StorageAdapter {
  private readonly records: string;
  private readonly peerRows: string;
  private readonly meta: string;
  private pool: PgPool | undefined;
  /** Resolves once the pool exists and the tables are there; cleared after a failure that may pass. */
  private ready: Promise<PgPool> | undefined;
  /** A failure no retry can mend (no driver, a newer schema): every call rejects with it. */
  private permanentFailure: StorageFailure | undefined;
  private closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly schema: string,
    private readonly queryTimeoutMs: number,
  ) {
    const quoted = `"${schema}"`;
    this.records = `${quoted}.identity_runtime_records`;
    this.peerRows = `${quoted}.identity_runtime_record_peers`;
    this.meta = `${quoted}.identity_runtime_meta`;
  }

  async get(collection: string, id: string): Promise<StoredRecord | undefined> {
    const { rows } = await this.query(
      `SELECT id, slot, peers, data FROM ${this.records} WHERE collection = $1 AND id = $2`,
      [collection, id],
    );
    return rows[0] === undefined ? undefined : toStored(rows[0]);
  }

  async getBySlot(collection: string, slot: string): Promise<StoredRecord | undefined> {
    const { rows } = await this.query(
      `SELECT id, slot, peers, data FROM ${this.records} WHERE collection = $1 AND slot = $2`,
      [collection, slot],
    );
    return rows[0] === undefined ? undefined : toStored(rows[0]);
  }

  async list(collection: string): Promise<StoredRecord[]> {
    const { rows } = await this.query(
      `SELECT id, slot, peers, data FROM ${this.records} WHERE collection = $1 ORDER BY seq`,
      [collection],
    );
    return rows.map(toStored);
  }

  async listByPeer(collection: string, peer: string): Promise<StoredRecord[]> {
    const { rows } = await this.query(
      `SELECT r.id, r.slot, r.peers, r.data FROM ${this.records} r
         JOIN ${this.peerRows} p ON p.collection = r.collection AND p.id = r.id
        WHERE p.collection = $1 AND p.peer = $2
        ORDER BY r.seq`,
      [collection, peer],
    );
    return rows.map(toStored);
  }

  async hasPeer(collection: string, peer: string): Promise<boolean> {
    const { rows } = await this.query(
      `SELECT 1 FROM ${this.peerRows} WHERE collection = $1 AND peer = $2 LIMIT 1`,
      [collection, peer],
    );
    return rows.length > 0;
  }

  upsertBySlot(collection: string, record: StoredRecord & { readonly slot: string }): Promise<StoredRecord> {
    return this.transaction(async (client) => {
      // Atomic however many processes write the slot at once: the unique constraint arbitrates.
      const { rows } = await client.query(
        `INSERT INTO ${this.records} (collection, id, slot, peers, data) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (collection, slot) DO UPDATE SET peers = excluded.peers, data = excluded.data
         RETURNING id, slot, peers, data`,
        [collection, record.id, record.slot, peersJson(record.peers), record.data],
      );
      const stored = rows[0];
      if (stored === undefined) throw new Error("INSERT … RETURNING returned no row");
      // The record's row is locked now, so no other writer rewrites its peers until this commits.
      await this.rewritePeers(client, collection, [{ id: String(stored.id), peers: record.peers }]);
      return toStored(stored);
    });
  }

  async commit(changes: readonly StorageChange[]): Promise<number[]> {
    if (changes.length === 0) {
      await this.open();
      return [];
    }
    if (changes.length > 1) {
      try {
        return await this.transaction((client) => this.applyBatched(client, changes));
      } catch (error) {
        if (!(error instanceof StorageFailure && isSlotViolation(error.cause))) throw error;
        // A batched statement hit a taken slot, which PostgreSQL names only in free text. Nothing was applied;
        // replaying the unit of work one change per statement names the slot exactly.
      }
    }
    return this.transaction((client) => this.applyOneByOne(client, changes));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.ready;
    } catch {
      // It failed to open: there may be a pool to end all the same.
    }
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  /** Applies the changes in order, each run of changes of one kind and collection as one statement. */
  private async applyBatched(client: PgPoolClient, changes: readonly StorageChange[]): Promise<number[]> {
    const affected: number[] = [];
    for (const batch of batches(changes)) {
      switch (batch.kind) {
        case "put": {
          await this.putAll(client, batch.collection, batch.records);
          for (let i = 0; i < batch.records.length; i++) affected.push(1);
          break;
        }
        case "delete": {
          const { rows } = await client.query(
            `DELETE FROM ${this.records} WHERE collection = $1 AND id = ANY($2::text[]) RETURNING id`,
            [batch.collection, batch.keys],
          );
          const removed = new Set(rows.map((row) => String(row.id)));
          for (const key of batch.keys) affected.push(removed.has(key) ? 1 : 0);
          break;
        }
        case "deleteBySlot": {
          const { rows } = await client.query(
            `DELETE FROM ${this.records} WHERE collection = $1 AND slot = ANY($2::text[]) RETURNING slot`,
            [batch.collection, batch.keys],
          );
          const removed = new Set(rows.map((row) => String(row.slot)));
          for (const key of batch.keys) affected.push(removed.has(key) ? 1 : 0);
          break;
        }
        case "deleteByPeer":
          affected.push(await this.deleteByPeer(client, batch.collection, batch.keys[0] as string));
          break;
      }
    }
    return affected;
  }

  /** Applies the changes one statement each, so that a taken slot is known to belong to one put. */
  private async applyOneByOne(client: PgPoolClient, changes: readonly StorageChange[]): Promise<number[]> {
    const affected: number[] = [];
    for (const change of changes) {
      switch (change.kind) {
        case "put":
          try {
            await this.putAll(client, change.collection, [change.record]);
          } catch (error) {
            if (isSlotViolation(error) && change.record.slot !== undefined) {
              throw new SlotTakenError(change.collection, change.record.slot);
            }
            throw error;
          }
          affected.push(1);
          break;
        case "delete":
          affected.push(await this.deleteWhere(client, "id", change.collection, change.id));
          break;
        case "deleteBySlot":
          affected.push(await this.deleteWhere(client, "slot", change.collection, change.slot));
          break;
        case "deleteByPeer":
          affected.push(await this.deleteByPeer(client, change.collection, change.peer));
          break;
      }
    }
    return affected;
  }

  /** Deletes the record of `collection` whose `column` is `value` (its peer rows follow); how many went. */
  private async deleteWhere(
    client: PgPoolClient,
    column: "id" | "slot",
    collection: string,
    value: string,
  ): Promise<number> {
    return rowCount(
      await client.query(`DELETE FROM ${this.records} WHERE collection = $1 AND ${column} = $2`, [
        collection,
        value,
      ]),
    );
  }

  /** Inserts or replaces records of one collection, in order; a replaced record keeps its `seq`. */
  private async putAll(
    client: PgPoolClient,
    collection: string,
    records: readonly StoredRecord[],
  ): Promise<void> {
    await client.query(
      `INSERT INTO ${this.records} (collection, id, slot, peers, data)
       SELECT $1, t.id, t.slot, t.peers, t.data
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(id, slot, peers, data, n)
        ORDER BY t.n
       ON CONFLICT (collection, id) DO UPDATE SET slot = excluded.slot, peers = excluded.peers, data = excluded.data`,
      [
        collection,
        records.map((record) => record.id),
        records.map((record) => record.slot ?? null),
        records.map((record) => peersJson(record.peers)),
        records.map((record) => record.data),
      ],
    );
    await this.rewritePeers(client, collection, records);
  }

  /** Makes the peer index of these records (all of one collection, rows locked by the caller) match them. */
  private async rewritePeers(
    client: PgPoolClient,
    collection: string,
    records: readonly Pick<StoredRecord, "id" | "peers">[],
  ): Promise<void> {
    await client.query(`DELETE FROM ${this.peerRows} WHERE collection = $1 AND id = ANY($2::text[])`, [
      collection,
      records.map((record) => record.id),
    ]);
    const ids: string[] = [];
    const peers: string[] = [];
    for (const record of records) {
      for (const peer of new Set(record.peers ?? [])) {
        ids.push(record.id);
        peers.push(peer);
      }
    }
    if (ids.length === 0) return;
    await client.query(
      `INSERT INTO ${this.peerRows} (collection, id, peer) SELECT $1, t.id, t.peer FROM unnest($2::text[], $3::text[]) AS t(id, peer)`,
      [collection, ids, peers],
    );
  }

  private async deleteByPeer(client: PgPoolClient, collection: string, peer: string): Promise<number> {
    return rowCount(
      await client.query(
        `DELETE FROM ${this.records} WHERE collection = $1
            AND id IN (SELECT id FROM ${this.peerRows} WHERE collection = $1 AND peer = $2)`,
        [collection, peer],
      ),
    );
  }

  /** One statement on any pooled connection. Only reads come this way, so a lost connection is retried. */
  private async query(text: string, values?: readonly unknown[]): Promise<PgResult> {
    const pool = await this.open();
    return retrying(() => pool.query(text, values));
  }

  /** Runs `work` in a transaction on one pooled connection: committed if it resolves, rolled back if it throws. */
  private async transaction<T>(work: (client: PgPoolClient) => Promise<T>): Promise<T> {
    const pool = await this.open();
    return retrying((attempt) => withClient(pool, work, attempt));
  }

  /** The pool, once the driver is loaded and the tables exist. */
  private async open(): Promise<PgPool> {
    if (this.closed) throw new StorageFailure("The PostgreSQL storage has been closed.");
    if (this.permanentFailure !== undefined) throw this.permanentFailure;
    if (this.ready === undefined) {
      const ready = this.connect();
      this.ready = ready;
      // A failure that may pass (the server is down) is retried by the next call.
      ready.catch(() => {
        if (this.ready === ready) this.ready = undefined;
      });
    }
    return this.ready;
  }

  private async connect(): Promise<PgPool> {
    if (this.pool === undefined) {
      const pg = await loadDriver().catch((error: unknown) => {
        this.permanentFailure = error instanceof StorageFailure ? error : failure(error);
        throw this.permanentFailure;
      });
      // close() may have run while the driver loaded.
      if (this.closed) throw new StorageFailure("The PostgreSQL storage has been closed.");
      const pool = new pg.Pool({
        connectionString: this.connectionString,
        application_name: "identity-runtime",
        query_timeout: this.queryTimeoutMs,
        connectionTimeoutMillis: this.queryTimeoutMs,
        // Notices a peer that vanished without closing the connection (a host gone, a network cut).
        keepAlive: true,
      });
      // An idle connection that breaks (server restart, terminated backend) is dropped by the pool and replaced
      // on demand; the error itself has no call to fail, and must not become an uncaught exception.
      pool.on("error", () => undefined);
      this.pool = pool;
    }
    const pool = this.pool;
    try {
      await this.createSchema(pool);
    } catch (error) {
      if (error instanceof StorageFailure && this.permanentFailure === error) throw error;
      throw failure(error);
    }
    return pool;
  }

  /**
   * Creates the schema on first use, in a transaction under an advisory lock: several processes may start on
   * an empty database at once. A schema recorded by a newer version of this package is left untouched.
   */
  private async createSchema(pool: PgPool): Promise<void> {
    await retrying((attempt) => withClient(pool, (client) => this.createSchemaLocked(client), attempt));
  }

  private async createSchemaLocked(client: PgPoolClient): Promise<void> {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`identity-runtime/${this.schema}`]);
    const { rows } = await client.query(
      `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS has_schema,
              to_regclass($2) IS NOT NULL AS has_meta`,
      [this.schema, this.meta],
    );
    const found = rows[0] ?? {};
    // Only when missing: CREATE SCHEMA needs a privilege that users of an existing schema may lack.
    if (found.has_schema !== true) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
    if (found.has_meta === true) {
      const version = await client.query(`SELECT value FROM ${this.meta} WHERE key = 'schema_version'`);
      const recorded = version.rows[0]?.value;
      if (typeof recorded === "string") return this.checkVersion(recorded);
    }
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${this.meta} (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE IF NOT EXISTS ${this.records} (
        seq bigserial NOT NULL,
        collection text NOT NULL,
        id text NOT NULL,
        slot text,
        peers text,
        data text NOT NULL,
        PRIMARY KEY (collection, id),
        CONSTRAINT ${SLOT_CONSTRAINT} UNIQUE (collection, slot)
      );
      CREATE INDEX IF NOT EXISTS identity_runtime_records_seq ON ${this.records} (collection, seq);
      CREATE TABLE IF NOT EXISTS ${this.peerRows} (
        collection text NOT NULL,
        id text NOT NULL,
        peer text NOT NULL,
        PRIMARY KEY (collection, id, peer),
        FOREIGN KEY (collection, id) REFERENCES ${this.records} (collection, id) ON DELETE CASCADE
      );
      CREATE INDEX IF NOT EXISTS identity_runtime_record_peers_peer ON ${this.peerRows} (collection, peer);
      INSERT INTO ${this.meta} (key, value) VALUES ('schema_version', '${SCHEMA_VERSION}')
        ON CONFLICT (key) DO NOTHING;
    `);
  }

  private checkVersion(recorded: string): void {
    const version = /^\d+$/.test(recorded) ? Number(recorded) : Number.NaN;
    if (version === SCHEMA_VERSION) return;
    this.permanentFailure = new StorageFailure(
      Number.isNaN(version)
        ? `The PostgreSQL schema "${this.schema}" records an unknown schema version ${JSON.stringify(recorded)}; it was not written by identity-runtime.`
        : version > SCHEMA_VERSION
          ? `The PostgreSQL schema "${this.schema}" was written by a newer version of identity-runtime (schema version ${version}; this version knows ${SCHEMA_VERSION}). Upgrade identity-runtime to open it.`
          : `The PostgreSQL schema "${this.schema}" has schema version ${version}, which this version of identity-runtime cannot open.`,
    );
    throw this.permanentFailure;
  }
}

/** What an attempt got to: a failure is safe to retry only if COMMIT had not been sent. */
interface Attempt {
  committing: boolean;
}

/**
 * Runs `run` again (on another connection) when it failed in a way that left nothing done: a deadlock, which
 * aborted the whole transaction, or a lost connection before COMMIT was sent, whose transaction the server
 * rolls back. A pool can hold several connections that a restarted server or a terminated backend broke, and
 * it learns of them only as their sockets report it: a short pause lets it do so before the next attempt.
 * Any other failure, or one after the last attempt, becomes a StorageFailure; a taken slot stays itself.
 */
async function retrying<T>(run: (attempt: Attempt) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const state: Attempt = { committing: false };
    try {
      return await run(state);
    } catch (error) {
      if (error instanceof SlotTakenError) throw error;
      const again =
        attempt < RETRY_DELAYS_MS.length &&
        (errorCode(error) === DEADLOCK_DETECTED || (isConnectionLoss(error) && !state.committing));
      if (!again) throw failure(error, state.committing);
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
    }
  }
}

/**
 * Lends `work` a pooled connection, in a transaction. A connection that failed (anything but an error the
 * server reported about a statement) is dropped rather than handed to the next call.
 */
async function withClient<T>(
  pool: PgPool,
  work: (client: PgPoolClient) => Promise<T>,
  attempt: Attempt,
): Promise<T> {
  const client = await pool.connect();
  // A connection that breaks between two statements emits "error": without a listener, that would crash.
  let broken: Error | undefined;
  const onError = (error: Error): void => void (broken ??= error);
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await work(client);
    attempt.committing = true;
    await client.query("COMMIT");
    return result;
  } catch (error) {
    if (!isStatementError(error)) broken ??= toError(error);
    if (broken === undefined) {
      // On a broken connection there is nothing to roll back: the server ends the transaction with it.
      await client
        .query("ROLLBACK")
        .catch((rollbackError: unknown) => void (broken ??= toError(rollbackError)));
    }
    throw error;
  } finally {
    client.removeListener("error", onError);
    client.release(broken ?? false);
  }
}

/** Loads `pg` on first use, so that users of other adapters need not install it. */
async function loadDriver(): Promise<PgModule> {
  let loaded: { default?: Partial<PgModule> } & Partial<PgModule>;
  try {
    loaded = await import("pg");
  } catch (error) {
    throw new StorageFailure(
      'The PostgreSQL storage needs the "pg" package, which could not be loaded: npm install pg',
      { cause: error },
    );
  }
  // pg is CommonJS: from ESM its exports are the default export (and, depending on the loader, named ones).
  const Pool = loaded.Pool ?? loaded.default?.Pool;
  if (typeof Pool !== "function") {
    throw new StorageFailure('The "pg" package loaded has no Pool: npm install pg@8');
  }
  return { Pool };
}

type Batch =
  | { kind: "put"; collection: string; records: StoredRecord[] }
  | { kind: "delete" | "deleteBySlot" | "deleteByPeer"; collection: string; keys: string[] };

/**
 * Groups consecutive changes of one kind and collection that one statement can apply with the same outcome
 * as applying them one by one: no key twice in a batch (a second put of an id, or a second removal of a
 * slot, must see the first one done), and each removal by peer on its own (one record may have both peers).
 */
function batches(changes: readonly StorageChange[]): Batch[] {
  const result: Batch[] = [];
  let current: Batch | undefined;
  let keys = new Set<string>();
  for (const change of changes) {
    const key = keyOf(change);
    const fits =
      current !== undefined &&
      current.kind === change.kind &&
      current.collection === change.collection &&
      change.kind !== "deleteByPeer" &&
      !keys.has(key) &&
      keys.size < MAX_BATCH;
    if (!fits) {
      current =
        change.kind === "put"
          ? { kind: "put", collection: change.collection, records: [] }
          : { kind: change.kind, collection: change.collection, keys: [] };
      keys = new Set();
      result.push(current);
    }
    keys.add(key);
    if (current?.kind === "put" && change.kind === "put") current.records.push(change.record);
    else if (current !== undefined && current.kind !== "put") current.keys.push(key);
  }
  return result;
}

function keyOf(change: StorageChange): string {
  switch (change.kind) {
    case "put":
      return change.record.id;
    case "delete":
      return change.id;
    case "deleteBySlot":
      return change.slot;
    case "deleteByPeer":
      return change.peer;
  }
}

/** The peers as stored: the JSON array as given, so that a read returns exactly what was written. */
function peersJson(peers: readonly string[] | undefined): string | null {
  return peers === undefined ? null : JSON.stringify(peers);
}

/** A fresh record with exactly the stored fields: nothing a caller does to it reaches the database. */
function toStored(row: Record<string, unknown>): StoredRecord {
  const { id, slot, peers, data } = row as unknown as RecordRow;
  const stored: { -readonly [K in keyof StoredRecord]: StoredRecord[K] } = { id, data };
  if (slot !== null) stored.slot = slot;
  if (peers !== null) stored.peers = JSON.parse(peers) as string[];
  return stored;
}

function rowCount(result: PgResult): number {
  return result.rowCount ?? 0;
}

/**
 * An error of a statement that leaves its connection usable: a taken slot, a constraint violation, a deadlock
 * or serialization failure, or a failure of this package's own (a newer schema). Anything else (a lost
 * connection, a terminated backend) may have left the connection broken.
 */
function isStatementError(error: unknown): boolean {
  if (error instanceof SlotTakenError || error instanceof StorageFailure) return true;
  const code = errorCode(error);
  return code !== undefined && (code.startsWith("23") || code.startsWith("40"));
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The connection went away (lost, refused, terminated, server shutting down): not the statement's fault. */
function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof StorageFailure) return false;
  const code = errorCode(error);
  // What the server reports carries a severity and a SQLSTATE: the connection classes, or a shutdown.
  if (typeof (error as { severity?: unknown }).severity === "string") {
    return code !== undefined && (code.startsWith("08") || ["57P01", "57P02", "57P03"].includes(code));
  }
  // Socket errors carry Node's codes (ECONNRESET, EPIPE, …); the driver's own say what happened in words.
  return (
    (code !== undefined && code.startsWith("E")) ||
    /connection|terminated|timeout|not queryable/i.test(error.message)
  );
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function isSlotViolation(error: unknown): boolean {
  return (
    errorCode(error) === UNIQUE_VIOLATION &&
    (error as { constraint?: unknown }).constraint === SLOT_CONSTRAINT
  );
}

/** The one conversion of the driver's errors: a StorageFailure that keeps the cause. */
function failure(error: unknown, committing = false): StorageFailure {
  if (error instanceof StorageFailure) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StorageFailure(
    committing && isConnectionLoss(error)
      ? `PostgreSQL: the connection was lost while committing, so the changes may or may not have been applied: ${detail}`
      : `PostgreSQL: ${detail}`,
    { cause: error },
  );
}
