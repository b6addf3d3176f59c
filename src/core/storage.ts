/**
 * The storage port: what the runtime and the LocalBackbone need from a database, in a handful of verbs.
 *
 * Adapters only do I/O. The core owns ids, serialization and validation: a record's `data` is JSON text the
 * core wrote, so an adapter stores and returns it as it is, and callers' objects can never alias stored ones.
 * Collections are named by the core (e.g. `did:e:…/identityMetadata`) and come into existence on first write.
 * @example
 * const record: StoredRecord = { id: "r1", slot: "s1", peers: [peer], data: JSON.stringify({ n: 1 }) };
 * await storage.commit([{ kind: "put", collection: "c", record }]);
 */
export interface StoredRecord {
  /** Unique within its collection. */
  readonly id: string;
  /**
   * An optional second unique key within the collection: an IdentityMetadata slot, or "the active deletion
   * process". Two records of one collection never hold the same slot.
   */
  readonly slot?: string;
  /** The addresses this record is about, so lookups and clean-ups by peer are indexed. */
  readonly peers?: readonly string[];
  /** The record itself, as JSON text. */
  readonly data: string;
}

/**
 * One write of a unit of work.
 * @example
 * const changes: StorageChange[] = [
 *   { kind: "put", collection: "c", record: { id: "r1", data: "{}" } },
 *   { kind: "deleteByPeer", collection: "c", peer },
 *   { kind: "notify", topic: "c changed" },
 * ];
 * const affected = await storage.commit(changes); // e.g. [1, 2, 0]
 */
export type StorageChange =
  /** Inserts the record, or replaces the one with the same id. Fails with `SlotTakenError` if another holds its slot. */
  | {
      /** Which change this is. */
      readonly kind: "put";
      /** The collection written to. */
      readonly collection: string;
      /** The record to store. */
      readonly record: StoredRecord;
    }
  /** Removes the record with this id, if any. */
  | {
      /** Which change this is. */
      readonly kind: "delete";
      /** The collection written to. */
      readonly collection: string;
      /** The id of the record to remove. */
      readonly id: string;
    }
  /** Removes the record holding this slot, if any. */
  | {
      /** Which change this is. */
      readonly kind: "deleteBySlot";
      /** The collection written to. */
      readonly collection: string;
      /** The slot whose record to remove. */
      readonly slot: string;
    }
  /** Removes every record whose `peers` include this address. */
  | {
      /** Which change this is. */
      readonly kind: "deleteByPeer";
      /** The collection written to. */
      readonly collection: string;
      /** The address whose records to remove. */
      readonly peer: string;
    }
  /**
   * Writes nothing; once the unit of work is committed (never if it is not), every subscriber of every
   * adapter on the database hears `topic` (see `subscribe`). Affects 0 records.
   */
  | {
      /** Which change this is. */
      readonly kind: "notify";
      /** What subscribers hear. */
      readonly topic: string;
    };

/**
 * Reading and writing records: what an adapter offers, and what it lends a transaction.
 * @example
 * async function rename(ops: StorageOperations, id: string, name: string): Promise<void> {
 *   const found = await ops.get("c", id);
 *   if (found !== undefined) await ops.commit([{ kind: "put", collection: "c", record: { ...found, data: JSON.stringify({ name }) } }]);
 * }
 * await storage.transaction((tx) => rename(tx, "r1", "Alice"));
 */
export interface StorageOperations {
  /** The record with this id in the collection, if any. */
  get(collection: string, id: string): Promise<StoredRecord | undefined>;
  /** The record holding this slot in the collection, if any. */
  getBySlot(collection: string, slot: string): Promise<StoredRecord | undefined>;
  /** Every record of the collection, oldest write first (a replaced record keeps its place). */
  list(collection: string): Promise<StoredRecord[]>;
  /** The records whose `peers` include `peer`, in the order of `list`. */
  listByPeer(collection: string, peer: string): Promise<StoredRecord[]>;
  /** Whether any record's `peers` include `peer`: an index lookup, however many records are about it. */
  hasPeer(collection: string, peer: string): Promise<boolean>;
  /**
   * Atomically: if a record holds `record.slot`, replaces its `data` and `peers` and keeps its id; otherwise
   * inserts `record`. Returns what is stored now. Concurrent calls on one slot leave exactly one record.
   */
  upsertBySlot(collection: string, record: StoredRecord & { readonly slot: string }): Promise<StoredRecord>;
  /**
   * Applies all changes or none (a unit of work). Resolves to the number of records each change affected.
   * Rejects with `SlotTakenError` when a put would give a slot a second record.
   */
  commit(changes: readonly StorageChange[]): Promise<number[]>;
}

/**
 * A database the runtime and the LocalBackbone keep their state in: the records, units of work and
 * transactions on them, and notifications of commits. `lokiStorage`, `sqliteStorage` and `postgresStorage`
 * are adapters; one of your own proves itself with the compliance suite of "identity-runtime/testing".
 * @example
 * const storage: StorageAdapter = sqliteStorage({ filename: "identity-runtime.db" });
 * const backbone = new LocalBackbone({ storage });
 * const runtime = await createRuntime({ backbone, storage });
 */
export interface StorageAdapter extends StorageOperations {
  /**
   * Runs `work` as one serializable transaction, however many adapters (and processes, and hosts) share the
   * database: what `work` reads through `tx` is one consistent state that includes its own commits, and
   * what it commits through `tx` is written when `work` resolves, as if no other transaction had run
   * between its first read and that moment. Where that cannot be so, the adapter rolls back and runs
   * `work` again, so `work` must do nothing but read and write through `tx`. If `work` throws, nothing it
   * committed is written. A commit in it that fails with `SlotTakenError` writes nothing, and `work` may
   * go on. Check-then-write rules (at most N of something, a decision taken once) hold when their check
   * and write are one transaction.
   *
   * With a `scope` (names of what the transaction is about, such as the addresses of the identities it acts
   * for), transactions whose scopes share a name run one after the other, and those with disjoint scopes
   * side by side, never failing for each other. The promise above then holds among transactions that each
   * read and write only what belongs to their scope: what every transaction that may change it names too.
   */
  transaction<T>(work: (tx: StorageOperations) => Promise<T>, scope?: readonly string[]): Promise<T>;
  /**
   * Calls `listener` with the topic of each `notify` change committed on the database, by this adapter or
   * any other (in any process), soon after its commit; and with `undefined` when topics may have been missed
   * (a lost connection that is back, a database that tells only that something changed): then anything may
   * have changed. Never throws into the caller. Returns the function that ends the subscription.
   */
  subscribe(listener: (topic: string | undefined) => void): () => void;
  /** Releases connections and memory. Further calls may fail. */
  close(): Promise<void>;
}

/**
 * The storage could not do its work (a lost connection, a missing driver, a schema from a newer version).
 * Adapters throw it for failures of their I/O; facades answer it with `error.runtime.storage`.
 * @example
 * try {
 *   await connection.query(sql);
 * } catch (error) {
 *   throw new StorageFailure(`my-storage: the query failed: ${String(error)}`, { cause: error });
 * }
 */
export class StorageFailure extends Error {
  /** Always `"StorageFailure"`: the runtime recognizes it by name, even from another copy of this package. */
  override readonly name = "StorageFailure";
}

/**
 * A put would have given a slot a second record. Its own class, so the core can tell it from a failure.
 * @example
 * try {
 *   await storage.commit([{ kind: "put", collection: "c", record: { id: "r2", slot: "s1", data: "{}" } }]);
 * } catch (error) {
 *   if (!(error instanceof SlotTakenError)) throw error;
 *   console.log(`slot ${error.slot} of ${error.collection} is taken`);
 * }
 */
export class SlotTakenError extends Error {
  /** Always `"SlotTakenError"`. */
  override readonly name = "SlotTakenError";

  constructor(
    /** The collection of the slot. */
    readonly collection: string,
    /** The slot another record holds. */
    readonly slot: string,
  ) {
    super(`The slot ${JSON.stringify(slot)} of collection ${JSON.stringify(collection)} is taken.`);
  }
}
