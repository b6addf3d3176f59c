/**
 * The storage port: what the runtime and the LocalBackbone need from a database, in a handful of verbs.
 *
 * Adapters only do I/O. The core owns ids, serialization and validation: a record's `data` is JSON text the
 * core wrote, so an adapter stores and returns it as it is, and callers' objects can never alias stored ones.
 * Collections are named by the core (e.g. `did:e:…/identityMetadata`) and come into existence on first write.
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

/** One write of a unit of work. */
export type StorageChange =
  /** Inserts the record, or replaces the one with the same id. Fails with `SlotTakenError` if another holds its slot. */
  | { readonly kind: "put"; readonly collection: string; readonly record: StoredRecord }
  /** Removes the record with this id, if any. */
  | { readonly kind: "delete"; readonly collection: string; readonly id: string }
  /** Removes the record holding this slot, if any. */
  | { readonly kind: "deleteBySlot"; readonly collection: string; readonly slot: string }
  /** Removes every record whose `peers` include this address. */
  | { readonly kind: "deleteByPeer"; readonly collection: string; readonly peer: string }
  /**
   * Writes nothing; once the unit of work is committed (never if it is not), every subscriber of every
   * adapter on the database hears `topic` (see `subscribe`). Affects 0 records.
   */
  | { readonly kind: "notify"; readonly topic: string };

/** Reading and writing records: what an adapter offers, and what it lends a transaction. */
export interface StorageOperations {
  get(collection: string, id: string): Promise<StoredRecord | undefined>;
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
 */
export class StorageFailure extends Error {
  override readonly name = "StorageFailure";
}

/** A put would have given a slot a second record. Its own class, so the core can tell it from a failure. */
export class SlotTakenError extends Error {
  override readonly name = "SlotTakenError";

  constructor(
    readonly collection: string,
    readonly slot: string,
  ) {
    super(`The slot ${JSON.stringify(slot)} of collection ${JSON.stringify(collection)} is taken.`);
  }
}
