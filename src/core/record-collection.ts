import type { StorageOperations, StorageChange, StoredRecord } from "./storage.js";

/** How a domain object is filed besides its id: its unique slot and the addresses it is about. */
export interface Filing {
  slot?: string;
  peers?: readonly string[];
}

/**
 * A typed view of one storage collection. The only place that turns domain objects into stored JSON text and
 * back, so adapters never see (or share) a caller's objects.
 */
export class RecordCollection<T extends { id: string }> {
  constructor(
    private readonly storage: StorageOperations,
    readonly name: string,
    private readonly file: (value: T) => Filing = () => ({}),
  ) {}

  /** The same collection, read and written through `tx` (a transaction). */
  in(tx: StorageOperations): RecordCollection<T> {
    return new RecordCollection(tx, this.name, this.file);
  }

  async get(id: string): Promise<T | undefined> {
    const record = await this.storage.get(this.name, id);
    return record === undefined ? undefined : fromRecord<T>(record);
  }

  async getBySlot(slot: string): Promise<T | undefined> {
    const record = await this.storage.getBySlot(this.name, slot);
    return record === undefined ? undefined : fromRecord<T>(record);
  }

  async list(): Promise<T[]> {
    return (await this.storage.list(this.name)).map((record) => fromRecord<T>(record));
  }

  /** Whether any record is about `peer`, without reading the records. */
  hasPeer(peer: string): Promise<boolean> {
    return this.storage.hasPeer(this.name, peer);
  }

  async listByPeer(peer: string): Promise<T[]> {
    return (await this.storage.listByPeer(this.name, peer)).map((record) => fromRecord<T>(record));
  }

  /** Applies changes of this (or any) collection as one unit of work. */
  commit(changes: readonly StorageChange[]): Promise<number[]> {
    return this.storage.commit(changes);
  }

  /** Writes `value` now, as a unit of work of its own. */
  async save(value: T): Promise<void> {
    await this.storage.commit([this.put(value)]);
  }

  put(value: T): StorageChange {
    return { kind: "put", collection: this.name, record: this.toRecord(value) };
  }

  delete(id: string): StorageChange {
    return { kind: "delete", collection: this.name, id };
  }

  deleteByPeer(peer: string): StorageChange {
    return { kind: "deleteByPeer", collection: this.name, peer };
  }

  private toRecord(value: T): StoredRecord {
    const { slot, peers } = this.file(value);
    // The id lives beside the data, not in it: an upsert that finds its slot taken keeps the stored id.
    const { id, ...data } = value;
    const record: { -readonly [K in keyof StoredRecord]: StoredRecord[K] } = {
      id,
      data: JSON.stringify(data),
    };
    if (slot !== undefined) record.slot = slot;
    if (peers !== undefined) record.peers = peers;
    return record;
  }
}

function fromRecord<T>(record: StoredRecord): T {
  return { id: record.id, ...(JSON.parse(record.data) as object) } as T;
}
