import { SlotTakenError, StorageFailure } from "../core/storage.js";
import type { StorageAdapter, StorageChange, StorageOperations, StoredRecord } from "../core/storage.js";
import {
  checkSchemaVersion,
  databaseFailure,
  loadDriver,
  peersText,
  SCHEMA_VERSION,
  toStored,
} from "./sql/records.js";
import type { RecordRow } from "./sql/records.js";
import { Subscribers, topicsOf } from "./subscribers.js";
import type { TopicListener } from "./subscribers.js";

/**
 * Where `sqliteStorage` keeps its records: a file it opens (and closes), or a database of yours.
 * @example
 * const options: SqliteStorageOptions = { filename: "identity-runtime.db" };
 * const storage = sqliteStorage(options);
 */
export type SqliteStorageOptions =
  | {
      /** The database file; created with its schema on first use. */
      filename: string;
    }
  | {
      /**
       * A better-sqlite3 database of your own, e.g. shared with the rest of your app. The adapter sets the
       * pragmas its guarantees rest on (WAL, `synchronous = FULL`, foreign keys, and `busy_timeout = 0`: it
       * waits for other connections' locks itself, without blocking the event loop) and creates its tables in
       * it; `close()` leaves it open: it stays yours to close.
       */
      database: SqliteDatabase;
    };

/**
 * The part of better-sqlite3 this adapter uses. Declared here rather than imported, so that neither the
 * published types nor the bundle depend on the driver, which is an optional peer dependency.
 * @example
 * import Database from "better-sqlite3";
 * const database: SqliteDatabase = new Database("app.db");
 * const storage = sqliteStorage({ database }); // close() leaves it open
 */
export interface SqliteDatabase {
  /** The file it was opened with. */
  readonly name: string;
  /** Whether a transaction is open on it. */
  readonly inTransaction: boolean;
  /** Runs a PRAGMA statement; with `simple`, returns the first column of its first row. */
  pragma(source: string, options?: { simple: boolean }): unknown;
  /** Runs one or more statements that return no rows. */
  exec(source: string): unknown;
  /** Compiles a statement to run as often as needed. */
  prepare(source: string): SqliteStatement;
  /** Wraps `fn` in a transaction; the adapter calls the `immediate` variant, which takes the write lock at once. */
  transaction<A extends unknown[], R>(
    fn: (...args: A) => R,
  ): {
    /** Runs `fn` in a `BEGIN IMMEDIATE` transaction: committed if it returns, rolled back if it throws. */
    immediate: (...args: A) => R;
  };
  /** Closes the database. */
  close(): unknown;
}

/**
 * The part of a better-sqlite3 statement this adapter uses.
 * @inline
 */
interface SqliteStatement {
  /** Runs the statement with these parameters; `changes` is the number of rows it wrote. */
  run(...params: unknown[]): {
    /** How many rows it inserted, updated or deleted. */
    changes: number;
  };
  /** The first row of the result, or `undefined` when there is none. */
  get(...params: unknown[]): unknown;
  /** Every row of the result. */
  all(...params: unknown[]): unknown[];
}

type SqliteDriver = new (filename: string) => SqliteDatabase;

// Every statement is written once, here. NULL slots are distinct in a SQLite UNIQUE constraint, so records
// without a slot never conflict, while "" is a slot like any other. The peers table is the index behind
// listByPeer and deleteByPeer; its rows follow their record's deletion (ON DELETE CASCADE).
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS identity_runtime_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS identity_runtime_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    slot TEXT,
    peers TEXT,
    data TEXT NOT NULL,
    UNIQUE (collection, id),
    UNIQUE (collection, slot)
  );
  CREATE TABLE IF NOT EXISTS identity_runtime_record_peers (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    peer TEXT NOT NULL,
    PRIMARY KEY (collection, id, peer),
    FOREIGN KEY (collection, id) REFERENCES identity_runtime_records (collection, id) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS identity_runtime_record_peers_by_peer
    ON identity_runtime_record_peers (collection, peer);
  INSERT INTO identity_runtime_meta (key, value) VALUES ('schema_version', '${SCHEMA_VERSION}')
    ON CONFLICT (key) DO NOTHING;
`;

const COLUMNS = "id, slot, peers, data";

const SQL = {
  version: "SELECT value FROM identity_runtime_meta WHERE key = 'schema_version'",
  get: `SELECT ${COLUMNS} FROM identity_runtime_records WHERE collection = ? AND id = ?`,
  getBySlot: `SELECT ${COLUMNS} FROM identity_runtime_records WHERE collection = ? AND slot = ?`,
  list: `SELECT ${COLUMNS} FROM identity_runtime_records WHERE collection = ? ORDER BY seq`,
  listByPeer: `SELECT r.id, r.slot, r.peers, r.data FROM identity_runtime_records r
    JOIN identity_runtime_record_peers p ON p.collection = r.collection AND p.id = r.id
    WHERE p.collection = ? AND p.peer = ? ORDER BY r.seq`,
  hasPeer: "SELECT 1 AS found FROM identity_runtime_record_peers WHERE collection = ? AND peer = ? LIMIT 1",
  peersById: "SELECT peers FROM identity_runtime_records WHERE collection = ? AND id = ?",
  peersBySlot: "SELECT peers FROM identity_runtime_records WHERE collection = ? AND slot = ?",
  // An update in place keeps the record's seq, and with it its place in `list`.
  put: `INSERT INTO identity_runtime_records (collection, id, slot, peers, data) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (collection, id) DO UPDATE SET slot = excluded.slot, peers = excluded.peers, data = excluded.data`,
  upsertBySlot: `INSERT INTO identity_runtime_records (collection, id, slot, peers, data) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (collection, slot) DO UPDATE SET peers = excluded.peers, data = excluded.data
    RETURNING ${COLUMNS}`,
  delete: "DELETE FROM identity_runtime_records WHERE collection = ? AND id = ?",
  deleteBySlot: "DELETE FROM identity_runtime_records WHERE collection = ? AND slot = ?",
  deleteByPeer: `DELETE FROM identity_runtime_records WHERE collection = ? AND id IN
    (SELECT id FROM identity_runtime_record_peers WHERE collection = ? AND peer = ?)`,
  deletePeers: "DELETE FROM identity_runtime_record_peers WHERE collection = ? AND id = ?",
  // OR IGNORE: a peer listed twice is one row.
  insertPeer: "INSERT OR IGNORE INTO identity_runtime_record_peers (collection, id, peer) VALUES (?, ?, ?)",
} as const;

/**
 * Durable storage in one SQLite file (better-sqlite3, WAL), for a single server. The file opens, and gets its
 * schema, on the first call; a missing driver, an unreadable file or a schema from a newer version of
 * identity-runtime make every call reject with a `StorageFailure`.
 * @example
 * const storage = sqliteStorage({ filename: "identity-runtime.db" });
 * const backbone = new LocalBackbone({ storage });
 * const runtime = await createRuntime({ backbone, storage });
 */
export function sqliteStorage(options: SqliteStorageOptions): StorageAdapter {
  if ("database" in options) {
    if (typeof options.database?.prepare !== "function")
      throw new TypeError("database must be a better-sqlite3 Database");
    return new SqliteStorage(options.database.name, options.database);
  }
  if (typeof options.filename !== "string" || options.filename === "") {
    throw new TypeError("filename must be a non-empty string");
  }
  return new SqliteStorage(options.filename);
}

class SqliteStorage implements StorageAdapter {
  private opening: Promise<Connection> | undefined;
  private closed = false;
  /** Open while a group transaction holds uncommitted writes on the connection: every read waits for it. */
  private running: Promise<void> | undefined;
  /** The writes waiting for the next group commit. */
  private readonly queue: QueuedWrite[] = [];
  /** The group commits under way, until the queue is empty. */
  private flushing: Promise<void> | undefined;
  private readonly subscribers = new Subscribers();
  /** While there are subscribers: the timer that looks for other connections' commits. */
  private watching: NodeJS.Timeout | undefined;

  /** @param given a database handed in, which stays open when the adapter closes. */
  constructor(
    private readonly filename: string,
    private readonly given?: SqliteDatabase,
  ) {}

  get(collection: string, id: string): Promise<StoredRecord | undefined> {
    return this.read((c) => found(c.sql.get.get(collection, id)));
  }

  getBySlot(collection: string, slot: string): Promise<StoredRecord | undefined> {
    return this.read((c) => found(c.sql.getBySlot.get(collection, slot)));
  }

  list(collection: string): Promise<StoredRecord[]> {
    return this.read((c) => fromRows(c.sql.list.all(collection)));
  }

  listByPeer(collection: string, peer: string): Promise<StoredRecord[]> {
    return this.read((c) => fromRows(c.sql.listByPeer.all(collection, peer)));
  }

  hasPeer(collection: string, peer: string): Promise<boolean> {
    return this.read((c) => c.sql.hasPeer.get(collection, peer) !== undefined);
  }

  upsertBySlot(collection: string, record: StoredRecord & { readonly slot: string }): Promise<StoredRecord> {
    return this.write((c) => c.upsertBySlot(collection, record), false);
  }

  commit(changes: readonly StorageChange[]): Promise<number[]> {
    return this.write((c, topics) => {
      const affected = c.commit(changes);
      topics.push(...topicsOf(changes));
      return affected;
    }, false);
  }

  /**
   * Topics of this adapter's own commits are told at once. Other connections' commits (other processes on
   * the file) carry no topic here: SQLite only tells that the file changed (`PRAGMA data_version`, looked at
   * every 25 ms while anyone subscribes), which subscribers hear as `undefined`.
   */
  subscribe(listener: TopicListener): () => void {
    const unsubscribe = this.subscribers.add(listener);
    this.watch();
    return () => {
      unsubscribe();
      if (!this.subscribers.any) this.unwatch();
    };
  }

  /**
   * Runs `work` as one unit of the next group commit (see `write`): its reads see one consistent state that
   * includes its own commits and those of the units before it, and nothing else changes the file meanwhile
   * (BEGIN IMMEDIATE holds the write lock of every process on it), so it is serializable and never run again.
   * A commit in it is a savepoint of its own, so a taken slot undoes only itself.
   */
  transaction<T>(work: (tx: StorageOperations) => Promise<T>): Promise<T> {
    return this.write((connection, topics) => {
      const now = <R>(step: (c: Connection) => R): Promise<R> => this.now(connection, step);
      return work({
        get: (collection, id) => now((c) => found(c.sql.get.get(collection, id))),
        getBySlot: (collection, slot) => now((c) => found(c.sql.getBySlot.get(collection, slot))),
        list: (collection) => now((c) => fromRows(c.sql.list.all(collection))),
        listByPeer: (collection, peer) => now((c) => fromRows(c.sql.listByPeer.all(collection, peer))),
        hasPeer: (collection, peer) => now((c) => c.sql.hasPeer.get(collection, peer) !== undefined),
        upsertBySlot: (collection, record) => now((c) => c.upsertBySlot(collection, record)),
        commit: (changes) =>
          now((c) => {
            const affected = c.commit(changes);
            topics.push(...topicsOf(changes));
            return affected;
          }),
      });
    }, true);
  }

  async close(): Promise<void> {
    // Writes already asked for are written (or fail) first: nothing acknowledged is left half done.
    while (this.flushing !== undefined) await this.flushing;
    this.closed = true;
    this.unwatch();
    this.subscribers.clear();
    const opening = this.opening;
    this.opening = undefined;
    // A database that failed to open has nothing to close.
    const connection = await opening?.catch(() => undefined);
    if (this.given === undefined) connection?.db.close();
  }

  /**
   * Group commit: every write (a commit, an upsert, a transaction) is a unit queued for the next transaction
   * of the file. Units that arrive while one is being written, or within the same turn of the event loop,
   * are written together: one BEGIN IMMEDIATE, each unit in a savepoint of its own (a unit that fails, a taken
   * slot say, undoes only itself), and one COMMIT, whose fsync (`synchronous = FULL`) makes them all durable
   * at once. No unit's call resolves before that COMMIT has returned.
   */
  private write<T>(
    run: (connection: Connection, topics: string[]) => T | Promise<T>,
    interactive: boolean,
  ): Promise<T> {
    if (this.closed) return Promise.reject(this.closedFailure());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, interactive, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Writes the queued units, a group at a time, until none is left. */
  private async flush(): Promise<void> {
    // One turn of the event loop, so that the units of callers running side by side join this group.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) await this.writeGroup(this.queue.splice(0, MAX_GROUP));
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeGroup(group: readonly QueuedWrite[]): Promise<void> {
    try {
      await this.groupCommit(group);
    } catch (error) {
      // Nothing of the group was written: each of its calls fails alike.
      const failure = this.failure(error);
      for (const unit of group) unit.reject(failure);
    }
  }

  private async groupCommit(group: readonly QueuedWrite[]): Promise<void> {
    const connection = await this.connection();
    const [only, ...others] = group;
    if (only !== undefined && others.length === 0 && !only.interactive) {
      // A group of one commit or upsert: its own transaction (BEGIN IMMEDIATE … COMMIT) is the group's.
      const topics: string[] = [];
      let value: unknown;
      try {
        value = await unlessBusy(() => only.run(connection, topics));
      } catch (error) {
        only.reject(this.failure(error));
        return;
      }
      this.subscribers.tell(topics);
      only.resolve(value as never);
      return;
    }
    const { db } = connection;
    await this.now(connection, (c) => unlessBusy(() => c.db.exec("BEGIN IMMEDIATE")));
    // From here until COMMIT or ROLLBACK the connection holds the group's uncommitted writes: reads wait.
    // (Not before BEGIN: waiting for another process's lock, nothing is uncommitted yet.)
    let finished!: () => void;
    this.running = new Promise<void>((resolve) => (finished = resolve));
    const outcomes: { unit: QueuedWrite; value?: unknown; error?: unknown; topics: string[] }[] = [];
    try {
      connection.checkSchema();
      for (const unit of group) {
        const topics: string[] = [];
        // A commit or an upsert is a savepoint by itself (a nested better-sqlite3 transaction); a transaction's
        // work, with its several statements, gets one here.
        if (unit.interactive) db.exec("SAVEPOINT unit");
        try {
          const value = await unit.run(connection, topics);
          if (unit.interactive) db.exec("RELEASE unit");
          outcomes.push({ unit, value, topics });
        } catch (error) {
          // SQLite may have ended the whole transaction itself (a full disk, an I/O error): then nothing of the
          // group is written, and every unit fails.
          if (!db.inTransaction) throw error;
          if (unit.interactive) {
            db.exec("ROLLBACK TO unit");
            db.exec("RELEASE unit");
          }
          // What a transaction's work threw leaves as it is (its statements' failures are StorageFailures
          // already); a commit's or an upsert's failure becomes one.
          outcomes.push({ unit, error: unit.interactive ? error : this.failure(error), topics: [] });
        }
      }
      db.exec("COMMIT");
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw error;
    } finally {
      this.running = undefined;
      finished();
    }
    // Durable now: the calls resolve, and the subscribers hear what the group's units committed.
    this.subscribers.tell([...new Set(outcomes.flatMap((outcome) => outcome.topics))]);
    for (const { unit, value, error } of outcomes) {
      if (error === undefined) unit.resolve(value as never);
      else unit.reject(error);
    }
  }

  private watch(): void {
    if (this.watching !== undefined || this.closed) return;
    let seen: unknown;
    this.watching = setInterval(() => {
      this.read((c) => c.db.pragma("data_version", { simple: true }))
        .then((version) => {
          // The first look tells too: what changed before it cannot be known.
          if (version !== seen) this.subscribers.tell([undefined]);
          seen = version;
        })
        // A failing file is the calls' to report; the watch looks again next time.
        .catch(() => undefined);
    }, DATA_VERSION_INTERVAL_MS);
    this.watching.unref();
  }

  private unwatch(): void {
    clearInterval(this.watching);
    this.watching = undefined;
  }

  /** Runs work on the connection of the open transaction. */
  private async now<T>(connection: Connection, work: (connection: Connection) => T | Promise<T>): Promise<T> {
    if (this.closed) throw this.closedFailure();
    try {
      return await work(connection);
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** Reads need no transaction: each is one statement, which SQLite runs on one snapshot. */
  private read<T>(work: (connection: Connection) => T): Promise<T> {
    return this.use((connection) => {
      connection.checkSchema();
      return work(connection);
    });
  }

  /** Runs synchronous work on the open database; turns failures other than a taken slot into StorageFailure. */
  private async use<T>(work: (connection: Connection) => T): Promise<T> {
    try {
      return await unlessBusy(async () => {
        let connection = await this.connection();
        // Not inside a transaction of this adapter, before each attempt (one may have begun while this call
        // waited for a lock): its writes are not to be seen, nor these to become part of it.
        while (this.running !== undefined) {
          await this.running.catch(() => undefined);
          connection = await this.connection();
        }
        if (this.closed) throw this.closedFailure();
        return work(connection);
      });
    } catch (error) {
      throw this.failure(error);
    }
  }

  private connection(): Promise<Connection> {
    if (this.closed) return Promise.reject(this.closedFailure());
    this.opening ??= this.open().catch((error: unknown) => {
      // Forget the failed attempt: the next call tries again (the file may be reachable by then).
      this.opening = undefined;
      throw this.failure(error);
    });
    return this.opening;
  }

  private async open(): Promise<Connection> {
    const db = this.given ?? new (await loadSqlite())(this.filename);
    try {
      // Locks held by other connections are waited for without blocking the event loop (see `unlessBusy`): a
      // transaction of this very process may be the one holding one, between two of its awaits.
      db.pragma("busy_timeout = 0");
      // A database of a newer version is refused before anything here changes it (WAL rewrites the file).
      await unlessBusy(() => checkExistingSchema(db, this.filename));
      await unlessBusy(() => db.pragma("journal_mode = WAL"));
      // FULL syncs the WAL on every commit: an acknowledged write survives a power loss, not just a crash.
      db.pragma("synchronous = FULL");
      db.pragma("foreign_keys = ON");
      await unlessBusy(() =>
        db
          .transaction(() => {
            db.exec(SCHEMA);
            // Inside the transaction: refusing a newer database rolls back whatever creating the schema did.
            checkSchema(db.prepare(SQL.version), this.filename);
          })
          .immediate(),
      );
      return new Connection(db, this.filename);
    } catch (error) {
      if (this.given === undefined) db.close();
      throw error;
    }
  }

  private failure(error: unknown): Error {
    if (error instanceof SlotTakenError) return error;
    return databaseFailure(`the SQLite storage ${this.filename}`, error);
  }

  private closedFailure(): StorageFailure {
    return new StorageFailure(`identity-runtime: the SQLite storage ${this.filename} has been closed.`);
  }
}

/** A write waiting for its group commit, and how to tell its caller the outcome. */
interface QueuedWrite {
  /** Throws the driver's own errors (a commit or an upsert) or StorageFailures (a transaction's statements). */
  run(connection: Connection, topics: string[]): unknown;
  /** A transaction's work (several statements, awaited), rather than one synchronous commit or upsert. */
  interactive: boolean;
  resolve(value: never): void;
  reject(error: unknown): void;
}

/** At most this many units are written by one group commit, so that one group's latency stays bounded. */
const MAX_GROUP = 512;

/** An open database and its prepared statements. Everything here is synchronous, so nothing interleaves. */
class Connection {
  readonly sql: { readonly [K in keyof typeof SQL]: SqliteStatement };
  /** IMMEDIATE takes the write lock at BEGIN: another process cannot slip a write in between. */
  readonly upsertBySlot: (
    collection: string,
    record: StoredRecord & { readonly slot: string },
  ) => StoredRecord;
  readonly commit: (changes: readonly StorageChange[]) => number[];

  constructor(
    readonly db: SqliteDatabase,
    private readonly filename: string,
  ) {
    this.sql = Object.fromEntries(
      Object.entries(SQL).map(([name, source]) => [name, db.prepare(source)]),
    ) as Connection["sql"];
    this.upsertBySlot = db.transaction(
      (collection: string, record: StoredRecord & { readonly slot: string }) => {
        this.checkSchema();
        const peers = peersText(record.peers);
        const kept = this.sql.peersBySlot.get(collection, record.slot) as
          { peers: string | null } | undefined;
        const row = this.sql.upsertBySlot.get(
          collection,
          record.id,
          record.slot,
          peers,
          record.data,
        ) as RecordRow;
        if (kept === undefined || kept.peers !== peers) this.writePeers(collection, row.id, record.peers);
        return toStored(row);
      },
    ).immediate;
    this.commit = db.transaction((changes: readonly StorageChange[]) => {
      this.checkSchema();
      return changes.map((change) => this.apply(change));
    }).immediate;
  }

  /**
   * Checked on every call, not only at open: another process sharing the file may upgrade it while this one
   * runs, and must not then write rows of the old schema into it.
   */
  checkSchema(): void {
    checkSchema(this.sql.version, this.filename);
  }

  private apply(change: StorageChange): number {
    if (change.kind === "notify") return 0;
    const { collection } = change;
    switch (change.kind) {
      case "put": {
        const { record } = change;
        // Checked inside the transaction before writing: a constraint error would not say which slot.
        if (record.slot !== undefined) {
          const holder = this.sql.getBySlot.get(collection, record.slot) as RecordRow | undefined;
          if (holder !== undefined && holder.id !== record.id)
            throw new SlotTakenError(collection, record.slot);
        }
        const peers = peersText(record.peers);
        const kept = this.sql.peersById.get(collection, record.id) as { peers: string | null } | undefined;
        this.sql.put.run(collection, record.id, record.slot ?? null, peers, record.data);
        // The peer index changes only with the peers: most puts replace a record's data alone.
        if (kept === undefined || kept.peers !== peers) this.writePeers(collection, record.id, record.peers);
        return 1;
      }
      case "delete":
        return this.sql.delete.run(collection, change.id).changes;
      case "deleteBySlot":
        return this.sql.deleteBySlot.run(collection, change.slot).changes;
      case "deleteByPeer":
        return this.sql.deleteByPeer.run(collection, collection, change.peer).changes;
    }
  }

  private writePeers(collection: string, id: string, peers: readonly string[] | undefined): void {
    this.sql.deletePeers.run(collection, id);
    for (const peer of peers ?? []) this.sql.insertPeer.run(collection, id, peer);
  }
}

// How often a subscribed adapter looks whether other connections changed the file.
const DATA_VERSION_INTERVAL_MS = 25;
// How long a call waits for another connection's lock before it fails.
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Runs work, and again after a short pause while another connection holds the lock it needs.
 * Waiting here rather than in SQLite's busy handler keeps the event loop free: the holder may be a
 * transaction of this very process, waiting to run its next statement.
 */
async function unlessBusy<T>(work: () => T | Promise<T>): Promise<T> {
  const deadline = performance.now() + BUSY_TIMEOUT_MS;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      return await work();
    } catch (error) {
      const busy = /^SQLITE_BUSY/.test(String((error as { code?: unknown } | null)?.code));
      if (!busy || performance.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * pause));
  }
}

/** Refuses a file whose recorded schema is newer, reading only: a new or empty file passes. */
function checkSchema(version: SqliteStatement, filename: string): void {
  checkSchemaVersion(
    (version.get() as { value: string } | undefined)?.value,
    `the SQLite database ${filename}`,
  );
}

function checkExistingSchema(db: SqliteDatabase, filename: string): void {
  const table = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'identity_runtime_meta'")
    .get();
  if (table !== undefined) checkSchema(db.prepare(SQL.version), filename);
}

/**
 * Array.from, not rows.map: the driver's arrays belong to Node's main realm, and mapping them would hand a
 * caller running in another realm (a Jest sandbox, a vm context) arrays that fail its deepStrictEqual.
 */
function fromRows(rows: unknown[]): StoredRecord[] {
  return Array.from(rows as RecordRow[], toStored);
}

function found(row: unknown): StoredRecord | undefined {
  return row === undefined ? undefined : toStored(row as RecordRow);
}

/** better-sqlite3, loaded on first use so that users of other storages never need it installed. */
async function loadSqlite(): Promise<SqliteDriver> {
  const driver = await loadDriver("better-sqlite3", async () => (await import("better-sqlite3")) as unknown);
  // ESM sees the CommonJS export as `default`; some CommonJS interop layers hand over the module itself.
  return (driver as { default?: SqliteDriver }).default ?? (driver as SqliteDriver);
}
