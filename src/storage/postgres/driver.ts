import { StorageFailure } from "../../core/storage.js";
import { loadDriver } from "../sql/records.js";

/**
 * What a statement returned. This and the interfaces below are the part of `pg` this adapter uses: declared
 * here, so that `pg` stays an optional peer dependency.
 * @inline
 */
export interface PgResult {
  /** The rows the statement returned, by column name. */
  readonly rows: Record<string, unknown>[];
  /** How many rows the statement returned or wrote; `null` for a statement that has no count. */
  readonly rowCount: number | null;
}

/** What runs a statement: a pool (on any of its connections) or one connection. */
export interface PgQueryable {
  /** Runs `text` with the parameters `values` (`$1`, `$2`, …). */
  query(text: string, values?: readonly unknown[]): Promise<PgResult>;
}

/**
 * What can also run named statements (pg's pools and clients can).
 * @inline
 */
export interface PgPreparingQueryable extends PgQueryable {
  /** Runs `text` with the parameters `values` (`$1`, `$2`, …). */
  query(text: string, values?: readonly unknown[]): Promise<PgResult>;
  /** Runs a named statement: prepared once per connection, then only executed. */
  query(statement: { name: string; text: string; values: readonly unknown[] }): Promise<PgResult>;
}

/**
 * One connection lent by a pg Pool: for a transaction, or to `LISTEN` on.
 * @inline
 */
export interface PgPoolClient extends PgPreparingQueryable {
  /** Gives the connection back to the pool; with `true` or an error, the pool closes it instead of reusing it. */
  release(destroy?: boolean | Error): void;
  /** Listens for the connection's errors. */
  on(event: "error", listener: (error: Error) => void): unknown;
  /** Listens for the connection's end. */
  on(event: "end", listener: () => void): unknown;
  /** Listens for `NOTIFY` messages on the channels the connection `LISTEN`s on. */
  on(event: "notification", listener: (message: { channel: string; payload?: string }) => void): unknown;
  /** Stops listening for the connection's errors. */
  removeListener(event: "error", listener: (error: Error) => void): unknown;
}

/**
 * The part of a `pg` Pool this adapter uses; any `pg.Pool` is one.
 * @example
 * import pg from "pg";
 * const pool: PostgresPool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const storage = postgresStorage({ pool, schema: "identities" }); // close() does not end the pool
 */
export interface PgPool extends PgPreparingQueryable {
  /** Lends one of the pool's connections, until it is released. */
  connect(): Promise<PgPoolClient>;
  /** Closes every connection of the pool. */
  end(): Promise<void>;
  /** Listens for errors of idle connections. */
  on(event: "error", listener: (error: Error) => void): unknown;
}

export interface PgModule {
  Pool: new (config: {
    connectionString: string;
    application_name?: string;
    query_timeout?: number;
    connectionTimeoutMillis?: number;
    keepAlive?: boolean;
  }) => PgPool;
}

/** Loads `pg` on first use, so that users of other adapters need not install it. */
export async function loadPg(): Promise<PgModule> {
  const loaded = await loadDriver<{ default?: Partial<PgModule> } & Partial<PgModule>>(
    "pg",
    () => import("pg"),
  );
  // pg is CommonJS: from ESM its exports are the default export (and, depending on the loader, named ones).
  const Pool = loaded.Pool ?? loaded.default?.Pool;
  if (typeof Pool !== "function") {
    throw new StorageFailure('identity-runtime: the "pg" package loaded has no Pool: npm install pg@8');
  }
  return { Pool };
}
