import Loki from "lokijs";
import { SlotTakenError } from "../core/storage.js";
import type { StorageAdapter, StorageChange, StorageOperations, StoredRecord } from "../core/storage.js";
import { Subscribers, topicsOf } from "./subscribers.js";
import type { TopicListener } from "./subscribers.js";

/**
 * A transaction of a LokiStorage: its reads and writes go straight to the collections (nothing else runs
 * meanwhile), and each write leaves its way back, so a failing `work` undoes them all.
 */
class LokiTransaction implements StorageOperations {
  readonly topics: string[] = [];
  readonly #undo: (() => void)[] = [];

  constructor(private readonly storage: LokiStorage) {}

  async run<T>(work: (tx: StorageOperations) => Promise<T>): Promise<T> {
    try {
      return await work(this);
    } catch (error) {
      for (const step of this.#undo.reverse()) step();
      throw error;
    }
  }

  get(collection: string, id: string): Promise<StoredRecord | undefined> {
    return this.storage.now(() => toStored(this.storage.existingCollection(collection)?.byId.get(id)));
  }

  getBySlot(collection: string, slot: string): Promise<StoredRecord | undefined> {
    return this.storage.now(() => toStored(this.storage.existingCollection(collection)?.bySlot(slot)));
  }

  list(collection: string): Promise<StoredRecord[]> {
    return this.storage.now(() => this.storage.listNow(collection));
  }

  listByPeer(collection: string, peer: string): Promise<StoredRecord[]> {
    return this.storage.now(() => this.storage.listByPeerNow(collection, peer));
  }

  hasPeer(collection: string, peer: string): Promise<boolean> {
    return this.storage.now(() => this.storage.existingCollection(collection)?.byPeer.has(peer) ?? false);
  }

  upsertBySlot(collection: string, record: StoredRecord & { readonly slot: string }): Promise<StoredRecord> {
    return this.storage.now(() => this.storage.upsertNow(collection, record, this.#undo));
  }

  commit(changes: readonly StorageChange[]): Promise<number[]> {
    return this.storage.now(() => {
      const affected = this.storage.commitNow(changes, this.#undo);
      for (const topic of topicsOf(changes)) this.topics.push(topic);
      return affected;
    });
  }
}

/** A record as kept in LokiJS. Loki adds `$loki`, which never leaves this file. */
interface LokiRecord {
  id: string;
  /** Write order; survives a rolled-back removal, which re-inserts at the end of LokiJS's own order. */
  seq: number;
  slot?: string | undefined;
  /** The record's peers: one as a plain string (the common case, and cheaper to keep), several as an array. */
  peers?: string | readonly string[] | undefined;
  data: string;
  /** A removed record waiting for compaction (see `IndexedCollection.remove`). */
  gone?: true;
}

type StoredLokiRecord = LokiRecord & LokiObj;

// Compaction runs once tombstones outnumber live records (and at least this many): amortised O(1) per removal.
const MIN_TOMBSTONES_TO_COMPACT = 1_024;

/**
 * The default adapter: everything in memory, in LokiJS collections with a unique index on the slot.
 *
 * Two measured LokiJS traps shape it: `remove` is O(N) (it splices arrays), so a removal only marks the record
 * and releases its slot, and tombstones are swept out in one batch once they outnumber live records; and
 * LokiJS indexes neither arrays nor compound keys, so lookups by id and by peer use maps kept beside it.
 * @example
 * const storage = lokiStorage();
 * const backbone = new LocalBackbone({ storage });
 * const runtime = await createRuntime({ backbone, storage });
 */
export function lokiStorage(): StorageAdapter {
  return new LokiStorage();
}

/** One collection: the LokiJS collection and the indexes kept beside it. */
class IndexedCollection {
  readonly byId = new Map<string, StoredLokiRecord>();
  readonly byPeer = new Map<string, Set<string>>();
  /** Whether LokiJS's order no longer follows `seq`, after a rollback. */
  reordered = false;
  private tombstones = 0;

  constructor(readonly loki: Collection<StoredLokiRecord>) {}

  bySlot(slot: string): StoredLokiRecord | undefined {
    // LokiJS's by() with an undefined value returns a lookup function, not "nothing".
    return typeof slot === "string" ? this.loki.by("slot", slot) : undefined;
  }

  live(): StoredLokiRecord[] {
    const records = this.loki.data.filter((record) => record.gone !== true);
    return this.reordered ? records.sort(bySeq) : records;
  }

  insert(record: StoredRecord, seq: number): void {
    const stored = this.loki.insert(toLoki(record, seq) as StoredLokiRecord) as StoredLokiRecord;
    this.byId.set(record.id, stored);
    this.indexPeers(record.id, record.peers, true);
  }

  replace(existing: StoredLokiRecord, record: StoredRecord): void {
    const samePeers = sameList(peersOf(existing), record.peers);
    if (!samePeers) this.indexPeers(existing.id, peersOf(existing), false);
    // Assigning undefined rather than deleting keeps V8's fast object shape.
    existing.slot = record.slot;
    if (!samePeers) existing.peers = record.peers === undefined ? undefined : packPeers(record.peers);
    existing.data = record.data;
    // LokiJS indexes go stale unless every edit of a stored document goes through update().
    this.loki.update(existing);
    if (!samePeers) this.indexPeers(existing.id, peersOf(existing), true);
  }

  remove(record: StoredLokiRecord): void {
    this.byId.delete(record.id);
    this.indexPeers(record.id, record.peers, false);
    // A tombstone releases the slot at the cost of an update (O(log N)), where LokiJS's remove is O(N).
    record.slot = undefined;
    record.peers = undefined;
    record.data = "";
    record.gone = true;
    this.loki.update(record);
    this.tombstones++;
    if (this.tombstones >= MIN_TOMBSTONES_TO_COMPACT && this.tombstones > this.byId.size) this.compact();
  }

  private compact(): void {
    this.loki.findAndRemove({ gone: true });
    this.tombstones = 0;
  }

  private indexPeers(id: string, peers: string | readonly string[] | undefined, add: boolean): void {
    if (peers === undefined) return;
    // One peer is kept as a plain string, and indexed without making an array for it.
    if (typeof peers === "string") this.indexPeer(id, peers, add);
    else for (const peer of peers) this.indexPeer(id, peer, add);
  }

  private indexPeer(id: string, peer: string, add: boolean): void {
    let ids = this.byPeer.get(peer);
    if (add) {
      if (ids === undefined) this.byPeer.set(peer, (ids = new Set()));
      ids.add(id);
    } else if (ids !== undefined) {
      ids.delete(id);
      if (ids.size === 0) this.byPeer.delete(peer);
    }
  }
}

class LokiStorage implements StorageAdapter {
  private readonly db = new Loki("identity-runtime.db");
  private readonly collections = new Map<string, IndexedCollection>();
  private sequence = 0;
  private closed = false;
  /**
   * The transaction running now, if any. Every call waits for it, so a transaction sees no other writes
   * and nobody sees its writes before it ends: serializable, in the one process that can reach the data.
   */
  private running: Promise<unknown> | undefined;
  private readonly subscribers = new Subscribers();

  get(collection: string, id: string): Promise<StoredRecord | undefined> {
    return this.outside(() => toStored(this.existingCollection(collection)?.byId.get(id)));
  }

  getBySlot(collection: string, slot: string): Promise<StoredRecord | undefined> {
    return this.outside(() => toStored(this.existingCollection(collection)?.bySlot(slot)));
  }

  list(collection: string): Promise<StoredRecord[]> {
    return this.outside(() => this.listNow(collection));
  }

  listByPeer(collection: string, peer: string): Promise<StoredRecord[]> {
    return this.outside(() => this.listByPeerNow(collection, peer));
  }

  hasPeer(collection: string, peer: string): Promise<boolean> {
    return this.outside(() => this.existingCollection(collection)?.byPeer.has(peer) ?? false);
  }

  upsertBySlot(collection: string, record: StoredRecord & { readonly slot: string }): Promise<StoredRecord> {
    return this.outside(() => this.upsertNow(collection, record, undefined));
  }

  commit(changes: readonly StorageChange[]): Promise<number[]> {
    return this.outside(() => {
      const affected = this.commitNow(changes, undefined);
      this.subscribers.tell(topicsOf(changes));
      return affected;
    });
  }

  subscribe(listener: TopicListener): () => void {
    return this.subscribers.add(listener);
  }

  async transaction<T>(work: (tx: StorageOperations) => Promise<T>): Promise<T> {
    while (this.running !== undefined) await this.running.catch(() => undefined);
    const tx = new LokiTransaction(this);
    const running = tx.run(work);
    this.running = running;
    try {
      const result = await running;
      this.subscribers.tell([...new Set(tx.topics)]);
      return result;
    } finally {
      this.running = undefined;
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    this.collections.clear();
    return Promise.resolve();
  }

  /** @internal */
  listNow(collection: string): StoredRecord[] {
    const records = this.existingCollection(collection)?.live() ?? [];
    return records.map((record) => toStored(record) as StoredRecord);
  }

  /** @internal */
  listByPeerNow(collection: string, peer: string): StoredRecord[] {
    const indexed = this.existingCollection(collection);
    const ids = indexed?.byPeer.get(peer);
    if (indexed === undefined || ids === undefined) return [];
    const records = [...ids].map((id) => indexed.byId.get(id) as StoredLokiRecord).sort(bySeq);
    return records.map((record) => toStored(record) as StoredRecord);
  }

  /** @internal */
  upsertNow(
    collection: string,
    record: StoredRecord & { readonly slot: string },
    undo: (() => void)[] | undefined,
  ): StoredRecord {
    const indexed = this.collectionOf(collection);
    const existing = indexed.bySlot(record.slot);
    if (existing === undefined) {
      indexed.insert(record, ++this.sequence);
      undo?.push(() => indexed.remove(indexed.byId.get(record.id) as StoredLokiRecord));
      return toStored(record) as StoredRecord;
    }
    const before = toStored(existing) as StoredRecord;
    indexed.replace(existing, record);
    undo?.push(() => restore(indexed, before));
    return toStored(existing) as StoredRecord;
  }

  /** Applies the changes, all or none; in a transaction, leaves the way back in `undo` for its end. */
  /** @internal */
  commitNow(changes: readonly StorageChange[], undo: (() => void)[] | undefined): number[] {
    // A single change fails before it changes anything (a taken slot), so outside a transaction it needs no
    // way back.
    if (changes.length === 1 && undo === undefined)
      return [this.apply(changes[0] as StorageChange, undefined)];
    // Each applied change leaves a way back, so a failure half-way restores the state before the commit.
    const steps: (() => void)[] = [];
    try {
      const affected = changes.map((change) => this.apply(change, steps));
      undo?.push(...steps);
      return affected;
    } catch (error) {
      for (const step of steps.reverse()) step();
      throw error;
    }
  }

  private apply(change: StorageChange, undo: (() => void)[] | undefined): number {
    if (change.kind === "notify") return 0;
    const indexed = this.collectionOf(change.collection);
    switch (change.kind) {
      case "put": {
        const { record } = change;
        const holder = record.slot === undefined ? undefined : indexed.bySlot(record.slot);
        if (holder !== undefined && holder.id !== record.id) {
          throw new SlotTakenError(change.collection, record.slot as string);
        }
        const existing = indexed.byId.get(record.id);
        if (existing === undefined) {
          indexed.insert(record, ++this.sequence);
          undo?.push(() => indexed.remove(indexed.byId.get(record.id) as StoredLokiRecord));
        } else {
          const before = undo === undefined ? undefined : (toStored(existing) as StoredRecord);
          indexed.replace(existing, record);
          if (before !== undefined) undo?.push(() => restore(indexed, before));
        }
        return 1;
      }
      case "delete":
        return this.removeAll(indexed, [indexed.byId.get(change.id)], undo);
      case "deleteBySlot":
        return this.removeAll(indexed, [indexed.bySlot(change.slot)], undo);
      case "deleteByPeer": {
        const ids = [...(indexed.byPeer.get(change.peer) ?? [])];
        return this.removeAll(
          indexed,
          ids.map((id) => indexed.byId.get(id)),
          undo,
        );
      }
    }
  }

  private removeAll(
    indexed: IndexedCollection,
    records: (StoredLokiRecord | undefined)[],
    undo: (() => void)[] | undefined,
  ): number {
    let removed = 0;
    for (const record of records) {
      if (record === undefined) continue;
      if (undo !== undefined) {
        const before = toStored(record) as StoredRecord;
        const seq = record.seq;
        undo.push(() => {
          indexed.insert(before, seq);
          indexed.reordered = true;
        });
      }
      indexed.remove(record);
      removed++;
    }
    return removed;
  }

  /** @internal */
  existingCollection(name: string): IndexedCollection | undefined {
    if (this.closed) throw new Error("The storage has been closed.");
    return this.collections.get(name);
  }

  private collectionOf(name: string): IndexedCollection {
    let indexed = this.existingCollection(name);
    if (indexed === undefined) {
      indexed = new IndexedCollection(
        this.db.addCollection<StoredLokiRecord>(name, { unique: ["slot"], disableMeta: true }),
      );
      this.collections.set(name, indexed);
    }
    return indexed;
  }

  /** A call from outside any transaction: it waits for the one running, if any, then runs at once. */
  private outside<T>(work: () => T): Promise<T> {
    return this.running === undefined ? this.now(work) : this.afterRunning(work);
  }

  private async afterRunning<T>(work: () => T): Promise<T> {
    while (this.running !== undefined) await this.running.catch(() => undefined);
    return work();
  }

  /** Runs synchronous work as one promise: nothing can interleave with it, which makes it atomic. */
  /** @internal */
  now<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

const bySeq = (a: LokiRecord, b: LokiRecord): number => a.seq - b.seq;

/**
 * Puts a replaced record back as it was. Found by id when undone, not kept from before: a later change of the
 * same unit (a removal, since undone) may have put another LokiJS document in its place.
 */
function restore(indexed: IndexedCollection, before: StoredRecord): void {
  const current = indexed.byId.get(before.id);
  if (current !== undefined) indexed.replace(current, before);
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

function packPeers(peers: readonly string[]): string | readonly string[] {
  return peers.length === 1 ? (peers[0] as string) : [...peers];
}

function peersOf(record: Pick<LokiRecord, "peers">): readonly string[] | undefined {
  const { peers } = record;
  return typeof peers === "string" ? [peers] : peers;
}

function toLoki(record: StoredRecord, seq: number): LokiRecord {
  const stored: LokiRecord = { id: record.id, seq, data: record.data };
  if (record.slot !== undefined) stored.slot = record.slot;
  if (record.peers !== undefined) stored.peers = packPeers(record.peers);
  return stored;
}

function toStored(
  record: Pick<LokiRecord, "id" | "slot" | "peers" | "data"> | undefined,
): StoredRecord | undefined {
  if (record === undefined) return undefined;
  const stored: { -readonly [K in keyof StoredRecord]: StoredRecord[K] } = {
    id: record.id,
    data: record.data,
  };
  if (record.slot !== undefined) stored.slot = record.slot;
  const peers = peersOf(record);
  if (peers !== undefined) stored.peers = [...peers];
  return stored;
}
