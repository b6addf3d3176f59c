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
 * which every mutating call asks, answers from a copy of the active process, dropped whenever the storage
 * tells of a change of the processes (by this process or another on the database) and read again then.
 */
export class OwnDeletionStore implements Store {
  readonly processes: RecordCollection<IdentityDeletionProcessDTO>;
  readonly #context: RuntimeContext<unknown, IdentityDeletionEvents>;
  /** The topic every change of the processes notifies. */
  readonly #topic: string;
  /** The active process as last read, until the storage tells of a change. */
  #active: Promise<IdentityDeletionProcessDTO | undefined> | undefined;
  readonly #unsubscribe: () => void;

  constructor(context: RuntimeContext<unknown, IdentityDeletionEvents>) {
    this.#context = context;
    this.processes = new RecordCollection<IdentityDeletionProcessDTO>(
      context.storage,
      `${context.address}/identityDeletionProcesses`,
    );
    this.#topic = this.processes.name;
    // `undefined`: the storage may have missed topics (a lost connection), so anything may have changed.
    this.#unsubscribe = context.storage.subscribe((topic) => {
      if (topic === this.#topic || topic === undefined) this.#active = undefined;
    });
  }

  /** Stops listening to the storage's notifications. */
  close(): void {
    this.#unsubscribe();
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
            [this.processes.put(process), { kind: "notify", topic: this.#topic }],
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
    if (active === undefined) {
      active = this.activeProcess();
      this.#active = active;
      // A failed read is not kept: the next call reads again.
      active.catch(() => {
        if (this.#active === active) this.#active = undefined;
      });
    }
    return standingOf(await active, this.#context.clock.now());
  }
}

/** How far a process has come: each decision (approval, rejection, cancellation) is taken once, in order. */
function decisions(process: IdentityDeletionProcessDTO): number {
  return [process.approvedAt, process.rejectedAt, process.cancelledAt].filter((at) => at !== undefined)
    .length;
}
