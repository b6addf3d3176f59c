import type { StoredRecord } from "../../core/storage.js";
import type { SlotUpsert } from "./writes.js";

/** An upsert waiting for its group, and how to tell its caller the outcome. */
interface Waiting {
  readonly upsert: SlotUpsert;
  resolve(row: Record<string, unknown>): void;
  reject(error: unknown): void;
}

/** How many groups may be written at once: a few connections of the pool, the rest stay free for reads. */
const MAX_IN_FLIGHT = 4;
/** At most this many upserts go in one statement. */
const MAX_GROUP = 1_000;

/**
 * Group commit of slot upserts: an upsert goes at once while fewer than `MAX_IN_FLIGHT` groups are being
 * written; the upserts that arrive meanwhile wait, and the next free writer takes all of them as one
 * statement (one round trip, one commit). A group that fails is written again one upsert at a time, so a
 * failing upsert fails only its own call. No call resolves before its statement has committed.
 */
export class UpsertGroups {
  readonly #write: (upserts: readonly SlotUpsert[]) => Promise<Record<string, unknown>[]>;
  readonly #waiting: Waiting[] = [];
  #inFlight = 0;

  constructor(write: (upserts: readonly SlotUpsert[]) => Promise<Record<string, unknown>[]>) {
    this.#write = write;
  }

  upsert(
    collection: string,
    record: StoredRecord & { readonly slot: string },
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ upsert: { collection, record }, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#waiting.length > 0) {
      const group = this.#takeGroup();
      this.#inFlight++;
      void this.#writeGroup(group).finally(() => {
        this.#inFlight--;
        this.#next();
      });
    }
  }

  /**
   * The oldest waiting upserts, no slot twice: a later upsert of a slot waits for a later group (which may be
   * written beside this one: upserts made side by side have no order among them).
   */
  #takeGroup(): Waiting[] {
    const group: Waiting[] = [];
    const slots = new Set<string>();
    for (let index = 0; index < this.#waiting.length && group.length < MAX_GROUP;) {
      const waiting = this.#waiting[index] as Waiting;
      const slot = `${waiting.upsert.collection}\u0000${waiting.upsert.record.slot}`;
      if (slots.has(slot)) {
        index++;
        continue;
      }
      slots.add(slot);
      group.push(waiting);
      this.#waiting.splice(index, 1);
    }
    return group;
  }

  async #writeGroup(group: readonly Waiting[]): Promise<void> {
    try {
      const rows = await this.#write(group.map((waiting) => waiting.upsert));
      group.forEach((waiting, index) => waiting.resolve(rows[index] as Record<string, unknown>));
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      // Which upsert failed the statement is not known: each is written alone, and fails alone (one after the
      // other, so that the pool stays free for everything else).
      for (const waiting of group) await this.#writeGroup([waiting]);
    }
  }
}
