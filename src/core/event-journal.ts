import type { Clock } from "./clock.js";
import type { EventBus } from "./events.js";
import { RecordCollection } from "./record-collection.js";
import type { StorageAdapter, StorageChange, StorageOperations } from "./storage.js";

/** One event of the payloads `P`: its name and its data. */
export type RaisedEvent<P extends object> = {
  [N in keyof P & string]: { readonly name: N; readonly data: P[N] };
}[keyof P & string];

/** What a change does once its transaction has committed: tell the listeners of its events. */
export type Announcement = () => void;

/**
 * Where a capability's changes meet its events: the changes and the journal entries of the events they raise
 * are one commit, and the listeners are told only of what was committed.
 */
export interface Publisher<P extends object> {
  /**
   * Commits `changes` through `tx`, a transaction about the own identity, together with the journal entries
   * of `events` (when the runtime keeps a journal). Returns the announcement of `events`, to make once the
   * transaction has committed.
   */
  commit<N extends keyof P & string>(
    tx: StorageOperations,
    changes: readonly StorageChange[],
    events: readonly { readonly name: N; readonly data: P[N] }[],
  ): Promise<Announcement>;
}

/** An event as the journal keeps it. */
export interface JournalEntry {
  /** Its place in the journal: 1 for the first event, one more for each after it, never reused. */
  readonly seq: number;
  readonly name: string;
  readonly data: unknown;
  /** When the change that raised it committed, as an ISO 8601 instant. */
  readonly createdAt: string;
}

/** A page of the journal: its entries, and the last seq looked at. */
export interface JournalPage {
  readonly entries: JournalEntry[];
  readonly through: number;
}

interface StoredEntry {
  /** The seq, in decimal: entries are found by seq without a scan. */
  id: string;
  seq: number;
  name: string;
  data: unknown;
  createdAt: string;
}

/** The journal's bookkeeping: the last seq handed out and how far entries have been pruned. */
interface JournalHead {
  id: typeof HEAD;
  seq: number;
  prunedThrough: number;
}

/** How far one consumer (a webhook target) has come: entries it has not passed are kept. */
interface Cursor {
  id: string;
  seq: number;
}

const HEAD = "head";

/** At most this many old entries are pruned by one append, so an append stays cheap after a long backlog. */
const PRUNE_BATCH = 64;

/** At most this many seqs are looked at by one read, however many of them have no entry. */
const MAX_SCAN = 1_000;

/**
 * The durable journal of one identity's events: every event is appended in the same transaction as the change
 * that raised it, so a crash never keeps a change and loses its event, nor the reverse. Consumers read it by
 * seq (a Server-Sent Events stream resumes after the last seq it sent) and keep cursors (a webhook target's
 * cursor is the last event it acknowledged). The newest `retain` entries are kept, and older ones until every
 * cursor has passed them.
 */
export class EventJournal {
  readonly #storage: StorageAdapter;
  readonly #clock: Clock;
  readonly #retain: number;
  readonly #topic: string;
  readonly #entries: RecordCollection<StoredEntry>;
  readonly #head: RecordCollection<JournalHead>;
  readonly #cursors: RecordCollection<Cursor>;

  constructor(parts: {
    storage: StorageAdapter;
    address: string;
    clock: Clock;
    /** How many of the newest entries are kept for readers without a cursor. */
    retain: number;
    /** The addresses an event is about, so that decomposing a relationship forgets the peer's events too. */
    peersOf: (name: string, data: unknown) => readonly string[];
  }) {
    this.#storage = parts.storage;
    this.#clock = parts.clock;
    this.#retain = parts.retain;
    this.#topic = `${parts.address}/events`;
    this.#entries = new RecordCollection<StoredEntry>(parts.storage, `${parts.address}/events`, (entry) => ({
      peers: parts.peersOf(entry.name, entry.data),
    }));
    this.#head = new RecordCollection(parts.storage, `${parts.address}/eventJournal`);
    this.#cursors = new RecordCollection(parts.storage, `${parts.address}/eventCursors`);
  }

  get collections(): readonly string[] {
    return [this.#entries.name, this.#head.name, this.#cursors.name];
  }

  /** The changes that forget the events about `peer` (a decomposed relationship's peer). */
  forgetPeer(peer: string): Promise<StorageChange[]> {
    return Promise.resolve([this.#entries.deleteByPeer(peer)]);
  }

  /**
   * The changes that append `events`, read through `tx`, which must be a transaction about the identity: so
   * seqs are handed out in commit order, and a reader that sees seq n has seen every seq before it. Also
   * prunes old entries that every cursor has passed, and tells the storage's subscribers.
   */
  async append(
    tx: StorageOperations,
    events: readonly { readonly name: string; readonly data: unknown }[],
  ): Promise<StorageChange[]> {
    const head = (await this.#head.in(tx).get(HEAD)) ?? { id: HEAD, seq: 0, prunedThrough: 0 };
    const createdAt = this.#clock.now().toISOString();
    const appended = events.map(({ name, data }, index) => {
      const seq = head.seq + index + 1;
      return this.#entries.put({ id: String(seq), seq, name, data, createdAt });
    });
    const seq = head.seq + events.length;
    const cursors = await this.#cursors.in(tx).list();
    const prunable = Math.min(seq - this.#retain, ...cursors.map((cursor) => cursor.seq));
    const prunedThrough = Math.max(head.prunedThrough, Math.min(prunable, head.prunedThrough + PRUNE_BATCH));
    const pruned: StorageChange[] = [];
    for (let old = head.prunedThrough + 1; old <= prunedThrough; old++) {
      pruned.push(this.#entries.delete(String(old)));
    }
    return [
      ...appended,
      ...pruned,
      this.#head.put({ id: HEAD, seq, prunedThrough }),
      { kind: "notify", topic: this.#topic },
    ];
  }

  /** The last seq handed out (0 before the first event) and the last pruned one. */
  async head(): Promise<{ seq: number; prunedThrough: number }> {
    const head = await this.#head.get(HEAD);
    return { seq: head?.seq ?? 0, prunedThrough: head?.prunedThrough ?? 0 };
  }

  /**
   * The entries after seq `after`, oldest first, at most `limit` of them, and `through`: the last seq looked
   * at, to read after next. Seqs without an entry (pruned, or forgotten with a decomposed peer) are passed
   * over, at most `MAX_SCAN` of them per call, so a reader always gets on: it has caught up when `through` is
   * the head's seq.
   */
  async read(after: number, limit: number): Promise<JournalPage> {
    const head = await this.head();
    const entries: JournalEntry[] = [];
    // What was pruned is gone: no need to look for it.
    let through = Math.max(after, head.prunedThrough);
    const scanUntil = through + MAX_SCAN;
    while (through < head.seq && through < scanUntil && entries.length < limit) {
      const window = Math.min(limit - entries.length, head.seq - through);
      const found = await Promise.all(
        Array.from({ length: window }, (_, index) => this.#entries.get(String(through + index + 1))),
      );
      for (const entry of found) {
        if (entry !== undefined) {
          const { seq, name, data, createdAt } = entry;
          entries.push({ seq, name, data, createdAt });
        }
      }
      through += window;
    }
    return { entries, through };
  }

  /** Calls `listener` whenever entries may have been appended, by this process or another. */
  watch(listener: () => void): () => void {
    return this.#storage.subscribe((topic) => {
      if (topic === this.#topic || topic === undefined) listener();
    });
  }

  /** The seq consumer `name` has come to, if it has a cursor. */
  async cursor(name: string): Promise<number | undefined> {
    return (await this.#cursors.get(name))?.seq;
  }

  /**
   * Moves consumer `name`'s cursor to `seq`, or creates it there; never back, so a slower process serving
   * the same identity cannot undo a faster one.
   */
  async advance(name: string, seq: number): Promise<void> {
    await this.#storage.transaction(
      async (tx) => {
        const kept = await this.#cursors.in(tx).get(name);
        if (kept === undefined || kept.seq < seq) await tx.commit([this.#cursors.put({ id: name, seq })]);
      },
      [this.#topic],
    );
  }

  /** Every consumer's cursor. */
  async cursors(): Promise<{ consumer: string; seq: number }[]> {
    return (await this.#cursors.list()).map((cursor) => ({ consumer: cursor.id, seq: cursor.seq }));
  }

  /** Removes consumer `name`'s cursor: what only it held back may be pruned. */
  async dropCursor(name: string): Promise<void> {
    await this.#cursors.commit([this.#cursors.delete(name)]);
  }
}

/** The runtime's publisher: commits with the journal (if any), then tells the bus's listeners. */
export function journalingPublisher<P extends object>(
  bus: EventBus<P>,
  journal: EventJournal | undefined,
): Publisher<P> {
  return {
    async commit(tx, changes, events) {
      const entries = journal === undefined || events.length === 0 ? [] : await journal.append(tx, events);
      await tx.commit([...changes, ...entries]);
      return () => {
        for (const event of events) bus.publish(event.name, event.data);
      };
    },
  };
}
