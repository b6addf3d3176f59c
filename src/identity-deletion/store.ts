import { isDeepStrictEqual } from "node:util";
import type { RuntimeContext, Store } from "../core/context.js";
import type { Announcement } from "../core/event-journal.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageChange } from "../core/storage.js";
import type { IdentityDeletionEvents } from "./events.js";
import { isActive, standingOf } from "./model.js";
import type { DeletionStanding, IdentityDeletionProcessDTO } from "./model.js";

/**
 * The runtime's copy of its own deletion processes, whose owner is the Backbone. Every answer is read from the
 * storage, never from memory: another process serving the same identity may have changed it. Only `standing`,
 * which every mutating call asks, answers from a copy of the active process: read again after every change
 * this process makes, and at least every `STANDING_MAX_AGE_MS`, so a change made by another process serving
 * the identity is seen within that time. (Expiries need no read: the standing is judged at the clock's now.)
 */
export class OwnDeletionStore implements Store {
  readonly processes: RecordCollection<IdentityDeletionProcessDTO>;
  readonly #context: RuntimeContext<unknown, IdentityDeletionEvents>;
  /** Milliseconds on a monotonic clock, for the age of the copy (not the domain's time, which is the clock's). */
  readonly #elapsedMs: () => number;
  /** The active process as last read, and when. */
  #active: { read: Promise<IdentityDeletionProcessDTO | undefined>; atMs: number } | undefined;

  constructor(context: RuntimeContext<unknown, IdentityDeletionEvents>, elapsedMs: () => number) {
    this.#context = context;
    this.#elapsedMs = elapsedMs;
    this.processes = new RecordCollection<IdentityDeletionProcessDTO>(
      context.storage,
      `${context.address}/identityDeletionProcesses`,
    );
  }

  get collections(): readonly string[] {
    return [this.processes.name];
  }

  /** The own processes are about no peer. */
  forgetPeer(): Promise<StorageChange[]> {
    return Promise.resolve([]);
  }

  /**
   * Keeps the Backbone's list (a catch-up on connecting) where it is not older than what is kept, and journals
   * what changed while the runtime was away (its listeners are not subscribed yet; the journal's readers are).
   */
  async replaceAll(processes: readonly IdentityDeletionProcessDTO[]): Promise<void> {
    for (const process of processes) await this.record(process);
  }

  /**
   * Keeps a process's new state and announces it. A state already kept (the same push handed over twice, by
   * this process or another serving the identity) or an older one (fewer decisions) changes nothing and
   * announces nothing. The event gets a copy of its own.
   */
  async record(process: IdentityDeletionProcessDTO): Promise<void> {
    (await this.#keep(process))?.();
  }

  /** Writes the state unless it is kept already or older, checking in one transaction about the identity. */
  #keep(process: IdentityDeletionProcessDTO): Promise<Announcement | undefined> {
    const { storage, address, events } = this.#context;
    return storage
      .transaction(
        async (tx) => {
          const kept = await this.processes.in(tx).get(process.id);
          if (
            kept !== undefined &&
            (isDeepStrictEqual(kept, process) || decisions(process) < decisions(kept))
          ) {
            return undefined;
          }
          return events.commit(
            tx,
            [this.processes.put(process)],
            [{ name: "transport.identityDeletionProcessStatusChanged", data: { ...process } }],
          );
        },
        [address],
      )
      .finally(() => {
        // This process knows at once; the others when the notification reaches them.
        this.#active = undefined;
      });
  }

  async activeProcess(): Promise<IdentityDeletionProcessDTO | undefined> {
    return (await this.processes.list()).find(isActive);
  }

  /** Where the own identity stands now: the active process (see the class) judged at the clock's now. */
  async standing(): Promise<DeletionStanding> {
    let active = this.#active;
    if (active === undefined || this.#elapsedMs() - active.atMs > STANDING_MAX_AGE_MS) {
      const fresh = { read: this.activeProcess(), atMs: this.#elapsedMs() };
      active = fresh;
      this.#active = fresh;
      // A failed read is not kept: the next call reads again.
      fresh.read.catch(() => {
        if (this.#active === fresh) this.#active = undefined;
      });
    }
    return standingOf(await active.read, this.#context.clock.now());
  }
}

/** How old the copy of the active process `standing` answers from may be. */
const STANDING_MAX_AGE_MS = 1_000;

/** How far a process has come: each decision (approval, rejection, cancellation) is taken once, in order. */
function decisions(process: IdentityDeletionProcessDTO): number {
  return [process.approvedAt, process.rejectedAt, process.cancelledAt].filter((at) => at !== undefined)
    .length;
}
