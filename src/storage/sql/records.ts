// What the SQL adapters (SQLite, PostgreSQL) share: how a record is a row, the schema version they write, and
// how they refuse a schema they do not know. Their own files hold only what their databases do differently.
import { StorageFailure } from "../../core/storage.js";
import type { StoredRecord } from "../../core/storage.js";

/** The schema version the SQL adapters write; a database written by a newer one is refused, never altered. */
export const SCHEMA_VERSION = 1;

/** A record as its row holds it: "no slot" and "no peers" are NULL, peers are the JSON array as given. */
export interface RecordRow {
  id: string;
  slot: string | null;
  peers: string | null;
  data: string;
}

/** The peers as a row keeps them: the JSON array as given, so a read returns exactly what was written. */
export function peersText(peers: readonly string[] | undefined): string | null {
  return peers === undefined ? null : JSON.stringify(peers);
}

/** A fresh record with exactly the stored fields: no NULLs, no undefined-valued keys, nothing shared. */
export function toStored(row: RecordRow): StoredRecord {
  const stored: { -readonly [K in keyof StoredRecord]: StoredRecord[K] } = { id: row.id, data: row.data };
  if (row.slot !== null) stored.slot = row.slot;
  if (row.peers !== null) stored.peers = JSON.parse(row.peers) as string[];
  return stored;
}

/**
 * Refuses a database whose recorded schema version is not the one this code writes: `where` names it (e.g.
 * `the SQLite database /var/lib/app.db`). A newer version says to upgrade; anything else is unknown.
 */
export function checkSchemaVersion(recorded: string | undefined, where: string): void {
  const version = recorded !== undefined && /^\d+$/.test(recorded) ? Number(recorded) : Number.NaN;
  if (version === SCHEMA_VERSION) return;
  throw new SchemaVersionFailure(
    Number.isNaN(version)
      ? `identity-runtime: ${where} has an unknown schema version ${JSON.stringify(recorded ?? null)}; it was not written by identity-runtime.`
      : version > SCHEMA_VERSION
        ? `identity-runtime: ${where} was written by a newer version of identity-runtime (schema version ` +
          `${version}; this version knows up to ${SCHEMA_VERSION}). Upgrade identity-runtime to open it.`
        : `identity-runtime: ${where} has schema version ${version}, which this version of identity-runtime cannot open.`,
  );
}

/** A database whose schema version this code cannot open: no retry mends it, and it is left as it is. */
export class SchemaVersionFailure extends StorageFailure {}

/**
 * Loads an optional peer dependency on first use, so that users of other storages need not install it; a
 * missing one fails with a `StorageFailure` that says how to install it.
 */
export async function loadDriver<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw new StorageFailure(
      `identity-runtime: this storage needs the ${name} package, which could not be loaded. Install it with: npm install ${name}`,
      { cause: error },
    );
  }
}

/** A failure of the database, as the adapters report it: what failed, where, and the cause kept. */
export function databaseFailure(where: string, error: unknown): StorageFailure {
  if (error instanceof StorageFailure) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StorageFailure(`identity-runtime: ${where} failed: ${detail}`, { cause: error });
}
