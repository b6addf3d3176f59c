import { StorageFailure } from "../../core/storage.js";
import { loadDriver } from "../sql/records.js";

/** The part of `pg` this adapter uses: declared here, so that `pg` stays an optional peer dependency. */
export interface PgResult {
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number | null;
}

export interface PgQueryable {
  query(text: string, values?: readonly unknown[]): Promise<PgResult>;
}

export interface PgPoolClient extends PgQueryable {
  release(destroy?: boolean | Error): void;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  on(event: "notification", listener: (message: { channel: string; payload?: string }) => void): unknown;
  removeListener(event: "error", listener: (error: Error) => void): unknown;
}

export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
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
