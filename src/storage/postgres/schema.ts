import { checkSchemaVersion, SCHEMA_VERSION } from "../sql/records.js";
import type { PgPoolClient } from "./driver.js";

/** The unique constraint that holds slots: a violation of it is a taken slot. */
export const SLOT_CONSTRAINT = "identity_runtime_records_slot_key";

/**
 * The channel of `notify` changes, shared by every schema: a payload is `<schema> <topic>`, and listeners keep
 * to their own schema's.
 */
export const NOTIFY_CHANNEL = "identity_runtime";

/** The tables of one schema, quoted for SQL. */
export interface Tables {
  readonly schema: string;
  readonly records: string;
  readonly peerRows: string;
  readonly meta: string;
}

export function tablesOf(schema: string): Tables {
  const quoted = `"${schema}"`;
  return {
    schema,
    records: `${quoted}.identity_runtime_records`,
    peerRows: `${quoted}.identity_runtime_record_peers`,
    meta: `${quoted}.identity_runtime_meta`,
  };
}

/**
 * Creates the schema on first use, in the caller's transaction under an advisory lock: several processes may
 * start on an empty database at once. A schema recorded by a newer version of this package is left untouched
 * and refused (a `StorageFailure` no retry mends).
 */
export async function createSchema(client: PgPoolClient, tables: Tables): Promise<void> {
  const { schema, records, peerRows, meta } = tables;
  await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`identity-runtime/${schema}`]);
  const { rows } = await client.query(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS has_schema,
            to_regclass($2) IS NOT NULL AS has_meta`,
    [schema, meta],
  );
  const found = rows[0] ?? {};
  // Only when missing: CREATE SCHEMA needs a privilege that users of an existing schema may lack.
  if (found.has_schema !== true) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  if (found.has_meta === true) {
    const version = await client.query(`SELECT value FROM ${meta} WHERE key = 'schema_version'`);
    const recorded = version.rows[0]?.value;
    if (typeof recorded === "string")
      return checkSchemaVersion(recorded, `the PostgreSQL schema "${schema}"`);
  }
  await client.query(`
    CREATE TABLE IF NOT EXISTS ${meta} (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE IF NOT EXISTS ${records} (
      seq bigserial NOT NULL,
      collection text NOT NULL,
      id text NOT NULL,
      slot text,
      peers text,
      data text NOT NULL,
      PRIMARY KEY (collection, id),
      CONSTRAINT ${SLOT_CONSTRAINT} UNIQUE (collection, slot)
    );
    CREATE INDEX IF NOT EXISTS identity_runtime_records_seq ON ${records} (collection, seq);
    CREATE TABLE IF NOT EXISTS ${peerRows} (
      collection text NOT NULL,
      id text NOT NULL,
      peer text NOT NULL,
      PRIMARY KEY (collection, id, peer),
      FOREIGN KEY (collection, id) REFERENCES ${records} (collection, id) ON DELETE CASCADE
    );
    CREATE INDEX IF NOT EXISTS identity_runtime_record_peers_peer ON ${peerRows} (collection, peer);
    INSERT INTO ${meta} (key, value) VALUES ('schema_version', '${SCHEMA_VERSION}')
      ON CONFLICT (key) DO NOTHING;
  `);
}
