import { createHash } from "node:crypto";
import { SlotTakenError } from "../../core/storage.js";
import type { StorageChange, StoredRecord } from "../../core/storage.js";
import { peersText } from "../sql/records.js";
import { topicsOf } from "../subscribers.js";
import { errorCode } from "./connection.js";
import type { PgPoolClient, PgPreparingQueryable, PgResult } from "./driver.js";
import { NOTIFY_CHANNEL, SLOT_CONSTRAINT } from "./schema.js";
import type { Tables } from "./schema.js";

const UNIQUE_VIOLATION = "23505";
// Parameters of one multi-row statement are arrays, so a batch costs one round trip however long it is.
const MAX_BATCH = 5_000;

/**
 * Applies the changes in order, each run of at most `maxBatch` changes of one kind and collection as one
 * statement. A put that finds its slot taken is a `SlotTakenError` when it was alone in its statement; in a
 * larger batch PostgreSQL names the slot only in free text, so the caller replays with `maxBatch` 1.
 */
export async function applyChanges(
  client: PgPoolClient,
  tables: Tables,
  changes: readonly StorageChange[],
  maxBatch = MAX_BATCH,
): Promise<number[]> {
  const affected: number[] = [];
  const topics = topicsOf(changes);
  if (topics.length > 0) {
    // Delivered by PostgreSQL when (and only if) the transaction commits.
    await client.query(`SELECT pg_notify($1, $2 || ' ' || t) FROM unnest($3::text[]) AS t`, [
      NOTIFY_CHANNEL,
      tables.schema,
      topics,
    ]);
  }
  for (const batch of batches(
    changes.filter((change) => change.kind !== "notify"),
    maxBatch,
  )) {
    switch (batch.kind) {
      case "put": {
        try {
          await putAll(client, tables, batch.collection, batch.records);
        } catch (error) {
          const [only, ...others] = batch.records;
          if (isSlotViolation(error) && others.length === 0 && only?.slot !== undefined) {
            throw new SlotTakenError(batch.collection, only.slot);
          }
          throw error;
        }
        for (let i = 0; i < batch.records.length; i++) affected.push(1);
        break;
      }
      case "delete":
      case "deleteBySlot": {
        const column = batch.kind === "delete" ? "id" : "slot";
        const { rows } = await client.query(
          `DELETE FROM ${tables.records} WHERE collection = $1 AND ${column} = ANY($2::text[]) RETURNING ${column}`,
          [batch.collection, batch.keys],
        );
        const removed = new Set(rows.map((row) => String(row[column])));
        for (const key of batch.keys) affected.push(removed.has(key) ? 1 : 0);
        break;
      }
      case "deleteByPeer":
        affected.push(await deleteByPeer(client, tables, batch.collection, batch.keys[0] as string));
        break;
    }
  }
  // Notifications affect no record; the counts follow the changes' order.
  return changes.map((change) => (change.kind === "notify" ? 0 : (affected.shift() as number)));
}

/**
 * Applies a unit of work inside the caller's transaction. A unit that puts records with slots runs in a
 * savepoint: a taken slot then undoes just this unit (replayed one change per statement to name the slot),
 * and the transaction may go on.
 */
export async function commitWithin(
  client: PgPoolClient,
  tables: Tables,
  changes: readonly StorageChange[],
): Promise<number[]> {
  if (!changes.some((change) => change.kind === "put" && change.record.slot !== undefined)) {
    return applyChanges(client, tables, changes);
  }
  await client.query("SAVEPOINT unit_of_work");
  try {
    const affected = await applyChanges(client, tables, changes);
    await client.query("RELEASE SAVEPOINT unit_of_work");
    return affected;
  } catch (error) {
    if (!(error instanceof SlotTakenError || isSlotViolation(error))) throw error;
    await client.query("ROLLBACK TO SAVEPOINT unit_of_work");
    if (error instanceof SlotTakenError) throw error;
  }
  // A batched statement hit a taken slot, which PostgreSQL names only in free text: one change per statement
  // names it exactly.
  try {
    const affected = await applyChanges(client, tables, changes, 1);
    await client.query("RELEASE SAVEPOINT unit_of_work");
    return affected;
  } catch (error) {
    if (error instanceof SlotTakenError) await client.query("ROLLBACK TO SAVEPOINT unit_of_work");
    throw error;
  }
}

/** One upsert into a slot: a record and its collection. */
export interface SlotUpsert {
  readonly collection: string;
  readonly record: StoredRecord & { readonly slot: string };
}

/**
 * Upserts records into their slots in one statement, so one round trip and (outside a transaction) one commit
 * carry them all, where that is safe in one statement: a new slot gets its record and its peer rows; a slot
 * whose record keeps its peers gets the new data. A record whose peers change is left alone (its upsert is not
 * in the answer): its peer rows must be rewritten after its row is locked, which `upsertIntoSlot` does in a
 * transaction. Atomic however many processes write the slots at once (the unique constraint arbitrates). No
 * slot may appear twice. Resolves to what is stored, by collection and slot.
 */
export async function upsertKeepingPeers(
  queryable: PgPreparingQueryable,
  tables: Tables,
  upserts: readonly SlotUpsert[],
): Promise<Map<string, Record<string, unknown>>> {
  const { rows } = await queryable.query({
    ...named(upsertKeepingPeersText(tables)),
    values: columnsOf(upserts),
  });
  return new Map(rows.map((row) => [slotKey(String(row.collection), String(row.slot)), row]));
}

/** Where `upsertKeepingPeers` keeps the answer for an upsert. */
export function slotKey(collection: string, slot: string): string {
  return `${collection}\u0000${slot}`;
}

/**
 * Inserts the record into its slot, or replaces the data and peers of the one there (keeping its id), in the
 * caller's transaction: the upsert locks the record's row first, so the peer rows rewritten after it are the
 * ones every other writer has committed (a single statement would not see those).
 */
export async function upsertIntoSlot(
  client: PgPoolClient,
  tables: Tables,
  { collection, record }: SlotUpsert,
): Promise<Record<string, unknown>> {
  const { rows } = await client.query(
    `INSERT INTO ${tables.records} (collection, id, slot, peers, data) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (collection, slot) DO UPDATE SET peers = excluded.peers, data = excluded.data
     RETURNING id, slot, peers, data`,
    [collection, record.id, record.slot, peersText(record.peers), record.data],
  );
  const stored = rows[0];
  if (stored === undefined) throw new Error("INSERT … RETURNING returned no row");
  await rewritePeers(client, tables, collection, [{ id: String(stored.id), peers: record.peers }]);
  return stored;
}

/** New slots get their record and peer rows; a slot whose record has the same peers gets the new data. */
function upsertKeepingPeersText(tables: Tables): string {
  return `WITH upserted AS (
       INSERT INTO ${tables.records} AS r (collection, id, slot, peers, data)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (collection, slot) DO UPDATE SET data = excluded.data
         WHERE r.peers IS NOT DISTINCT FROM excluded.peers
       RETURNING collection, id, slot, peers, data, (xmax = 0) AS inserted
     ), fresh AS (
       INSERT INTO ${tables.peerRows} (collection, id, peer)
       SELECT u.collection, u.id, p.peer FROM upserted u, jsonb_array_elements_text(u.peers::jsonb) AS p(peer)
        WHERE u.inserted AND u.peers IS NOT NULL
       ON CONFLICT DO NOTHING
     )
     SELECT collection, id, slot, peers, data FROM upserted`;
}

function columnsOf(upserts: readonly SlotUpsert[]): unknown[] {
  return [
    upserts.map((upsert) => upsert.collection),
    upserts.map((upsert) => upsert.record.id),
    upserts.map((upsert) => upsert.record.slot),
    upserts.map((upsert) => peersText(upsert.record.peers)),
    upserts.map((upsert) => upsert.record.data),
  ];
}

/**
 * A statement the connection prepares once and then only executes: its plan is kept, which for these
 * statements costs more than running them. Named by a hash of its text (which holds the schema).
 */
function named(text: string): { name: string; text: string } {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `identity_runtime_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return { name, text };
}

const statementNames = new Map<string, string>();

/** Whether the error is a taken slot, which PostgreSQL reports as a violation of the slot constraint. */
export function isSlotViolation(error: unknown): boolean {
  return (
    errorCode(error) === UNIQUE_VIOLATION &&
    (error as { constraint?: unknown }).constraint === SLOT_CONSTRAINT
  );
}

/** Inserts or replaces records of one collection, in order; a replaced record keeps its `seq`. */
async function putAll(
  client: PgPoolClient,
  tables: Tables,
  collection: string,
  records: readonly StoredRecord[],
): Promise<void> {
  await client.query(
    `INSERT INTO ${tables.records} (collection, id, slot, peers, data)
     SELECT $1, t.id, t.slot, t.peers, t.data
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(id, slot, peers, data, n)
      ORDER BY t.n
     ON CONFLICT (collection, id) DO UPDATE SET slot = excluded.slot, peers = excluded.peers, data = excluded.data`,
    [
      collection,
      records.map((record) => record.id),
      records.map((record) => record.slot ?? null),
      records.map((record) => peersText(record.peers)),
      records.map((record) => record.data),
    ],
  );
  await rewritePeers(client, tables, collection, records);
}

/** Makes the peer index of these records (all of one collection, rows locked by the caller) match them. */
async function rewritePeers(
  client: PgPoolClient,
  tables: Tables,
  collection: string,
  records: readonly Pick<StoredRecord, "id" | "peers">[],
): Promise<void> {
  await client.query(`DELETE FROM ${tables.peerRows} WHERE collection = $1 AND id = ANY($2::text[])`, [
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
    `INSERT INTO ${tables.peerRows} (collection, id, peer) SELECT $1, t.id, t.peer FROM unnest($2::text[], $3::text[]) AS t(id, peer)`,
    [collection, ids, peers],
  );
}

async function deleteByPeer(
  client: PgPoolClient,
  tables: Tables,
  collection: string,
  peer: string,
): Promise<number> {
  return rowCount(
    await client.query(
      `DELETE FROM ${tables.records} WHERE collection = $1
          AND id IN (SELECT id FROM ${tables.peerRows} WHERE collection = $1 AND peer = $2)`,
      [collection, peer],
    ),
  );
}

function rowCount(result: PgResult): number {
  return result.rowCount ?? 0;
}

type Batch =
  | { kind: "put"; collection: string; records: StoredRecord[] }
  | { kind: "delete" | "deleteBySlot" | "deleteByPeer"; collection: string; keys: string[] };

/**
 * Groups consecutive changes of one kind and collection that one statement can apply with the same outcome
 * as applying them one by one: no key twice in a batch (a second put of an id, or a second removal of a
 * slot, must see the first one done), and each removal by peer on its own (one record may have both peers).
 */
type RecordChange = Exclude<StorageChange, { kind: "notify" }>;

function batches(changes: readonly RecordChange[], maxBatch: number): Batch[] {
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
      keys.size < maxBatch;
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

function keyOf(change: RecordChange): string {
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
