import Loki from "lokijs";
import { SlotTakenError } from "../core/storage.js";
import type { StorageAdapter, StorageChange, StoredRecord } from "../core/storage.js";

/** A record as kept in a LokiJS collection: Loki adds `$loki`, which never leaves this file. */
interface LokiRecord {
  id: string;
  /** Write order; survives a rolled-back removal, which re-inserts at the end of LokiJS's own order. */
  seq: number;
  slot?: string;
  peers?: readonly string[];
  data: string;
}

type StoredLokiRecord = LokiRecord & LokiObj;
type Collection = globalThis.Collection<StoredLokiRecord>;

/**
 * The default adapter: everything in memory, in LokiJS collections with unique indexes on `id` and `slot`.
 * LokiJS indexes neither arrays nor compound keys, so lookups by peer use an index kept beside it.
 */
export function lokiStorage(): StorageAdapter {
  return new LokiStorage();
}

class LokiStorage implements StorageAdapter {
  private readonly db = new Loki("identity-runtime.db");
  private readonly collections = new Map<string, Collection>();
  /** collection → peer → ids of the records about that peer. */
  private readonly peerIndex = new Map<string, Map<string, Set<string>>>();
  /** Collections whose LokiJS order no longer follows `seq`, after a rollback. */
  private readonly reordered = new Set<string>();
  private sequence = 0;
  private closed = false;

  get(collection: string, id: string): Promise<StoredRecord | undefined> {
    return Promise.resolve(toStored(this.collectionOrUndefined(collection)?.by("id", id)));
  }

  getBySlot(collection: string, slot: string): Promise<StoredRecord | undefined> {
    return Promise.resolve(toStored(this.collectionOrUndefined(collection)?.by("slot", slot)));
  }

  list(collection: string): Promise<StoredRecord[]> {
    let records: LokiRecord[] = this.collectionOrUndefined(collection)?.data ?? [];
    if (this.reordered.has(collection)) records = [...records].sort(bySeq);
    return Promise.resolve(records.map((record) => toStored(record) as StoredRecord));
  }

  listByPeer(collection: string, peer: string): Promise<StoredRecord[]> {
    const ids = this.peerIndex.get(collection)?.get(peer);
    const loki = this.collectionOrUndefined(collection);
    if (ids === undefined || loki === undefined) return Promise.resolve([]);
    const records = [...ids].map((id) => loki.by("id", id) as StoredLokiRecord);
    records.sort(bySeq);
    return Promise.resolve(records.map((record) => toStored(record) as StoredRecord));
  }

  upsertBySlot(collection: string, record: StoredRecord & { readonly slot: string }): Promise<StoredRecord> {
    return this.synchronously(() => {
      const loki = this.collection(collection);
      const existing = loki.by("slot", record.slot);
      if (existing === undefined) {
        this.insert(collection, loki, record);
        return toStored(record) as StoredRecord;
      }
      this.replace(collection, loki, existing, { ...record, id: existing.id });
      return toStored(existing) as StoredRecord;
    });
  }

  commit(changes: readonly StorageChange[]): Promise<number[]> {
    return this.synchronously(() => {
      // Each applied change leaves a way back, so a failure half-way restores the state before the commit.
      const undo: (() => void)[] = [];
      try {
        return changes.map((change) => this.apply(change, undo));
      } catch (error) {
        for (const step of undo.reverse()) step();
        throw error;
      }
    });
  }

  close(): Promise<void> {
    this.closed = true;
    this.collections.clear();
    this.peerIndex.clear();
    this.reordered.clear();
    return Promise.resolve();
  }

  private apply(change: StorageChange, undo: (() => void)[]): number {
    const loki = this.collection(change.collection);
    switch (change.kind) {
      case "put": {
        const existing = loki.by("id", change.record.id);
        const holder = change.record.slot === undefined ? undefined : loki.by("slot", change.record.slot);
        if (holder !== undefined && holder.id !== change.record.id) {
          throw new SlotTakenError(change.collection, change.record.slot as string);
        }
        if (existing === undefined) {
          this.insert(change.collection, loki, change.record);
          undo.push(() =>
            this.remove(change.collection, loki, loki.by("id", change.record.id) as StoredLokiRecord),
          );
        } else {
          const before = toStored(existing) as StoredRecord;
          this.replace(change.collection, loki, existing, change.record);
          undo.push(() => this.replace(change.collection, loki, existing, before));
        }
        return 1;
      }
      case "delete":
        return this.removeAll(change.collection, loki, [loki.by("id", change.id)], undo);
      case "deleteBySlot":
        return this.removeAll(change.collection, loki, [loki.by("slot", change.slot)], undo);
      case "deleteByPeer": {
        const ids = [...(this.peerIndex.get(change.collection)?.get(change.peer) ?? [])];
        return this.removeAll(
          change.collection,
          loki,
          ids.map((id) => loki.by("id", id)),
          undo,
        );
      }
    }
  }

  private removeAll(
    name: string,
    loki: Collection,
    records: (StoredLokiRecord | undefined)[],
    undo: (() => void)[],
  ): number {
    let removed = 0;
    for (const record of records) {
      if (record === undefined) continue;
      const before = toStored(record) as StoredRecord;
      const seq = record.seq;
      this.remove(name, loki, record);
      undo.push(() => {
        this.insert(name, loki, before, seq);
        this.reordered.add(name);
      });
      removed++;
    }
    return removed;
  }

  private insert(name: string, loki: Collection, record: StoredRecord, seq = ++this.sequence): void {
    // Loki adds `$loki` on insert; the record handed in does not have it yet.
    loki.insert({ ...toLoki(record), seq } as StoredLokiRecord);
    this.indexPeers(name, record.id, record.peers, true);
  }

  private replace(name: string, loki: Collection, existing: StoredLokiRecord, record: StoredRecord): void {
    this.indexPeers(name, existing.id, existing.peers, false);
    const next = toLoki(record);
    existing.slot = next.slot;
    existing.peers = next.peers;
    existing.data = next.data;
    if (next.slot === undefined) delete existing.slot;
    if (next.peers === undefined) delete existing.peers;
    // LokiJS indexes go stale unless every edit of a stored document goes through update().
    loki.update(existing);
    this.indexPeers(name, existing.id, existing.peers, true);
  }

  private remove(name: string, loki: Collection, record: StoredLokiRecord): void {
    this.indexPeers(name, record.id, record.peers, false);
    loki.remove(record);
  }

  private indexPeers(name: string, id: string, peers: readonly string[] | undefined, add: boolean): void {
    if (peers === undefined) return;
    let byPeer = this.peerIndex.get(name);
    if (byPeer === undefined) {
      byPeer = new Map();
      this.peerIndex.set(name, byPeer);
    }
    for (const peer of peers) {
      let ids = byPeer.get(peer);
      if (add) {
        if (ids === undefined) byPeer.set(peer, (ids = new Set()));
        ids.add(id);
      } else if (ids !== undefined) {
        ids.delete(id);
        if (ids.size === 0) byPeer.delete(peer);
      }
    }
  }

  private collectionOrUndefined(name: string): Collection | undefined {
    if (this.closed) throw new Error("The storage has been closed.");
    return this.collections.get(name);
  }

  private collection(name: string): Collection {
    let loki = this.collectionOrUndefined(name);
    if (loki === undefined) {
      loki = this.db.addCollection<StoredLokiRecord>(name, { unique: ["id", "slot"], disableMeta: true });
      this.collections.set(name, loki);
    }
    return loki;
  }

  /** Runs synchronous work as one promise: nothing can interleave with it, which makes it atomic. */
  private synchronously<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

const bySeq = (a: LokiRecord, b: LokiRecord): number => a.seq - b.seq;

function toLoki(record: StoredRecord): Omit<LokiRecord, "seq"> {
  const copy: Omit<LokiRecord, "seq"> = { id: record.id, data: record.data };
  if (record.slot !== undefined) copy.slot = record.slot;
  if (record.peers !== undefined) copy.peers = [...record.peers];
  return copy;
}

function toStored(record: Omit<LokiRecord, "seq"> | undefined): StoredRecord | undefined {
  if (record === undefined) return undefined;
  const stored: { -readonly [K in keyof StoredRecord]: StoredRecord[K] } = {
    id: record.id,
    data: record.data,
  };
  if (record.slot !== undefined) stored.slot = record.slot;
  if (record.peers !== undefined) stored.peers = [...record.peers];
  return stored;
}
