import { isDeepStrictEqual } from "node:util";
import type { RuntimeContext, Store } from "../core/context.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageChange } from "../core/storage.js";
import type { IdentityDeletionEvents } from "./events.js";
import { isActive, standingOf } from "./model.js";
import type { DeletionStanding, IdentityDeletionProcessDTO } from "./model.js";

/**
 * The runtime's copy of its own deletion processes, whose owner is the Backbone. Every answer is read from the
 * storage, never from memory: another process serving the same identity may have changed it.
 */
export class OwnDeletionStore implements Store {
  readonly processes: RecordCollection<IdentityDeletionProcessDTO>;
  readonly #context: RuntimeContext<unknown, IdentityDeletionEvents>;

  constructor(context: RuntimeContext<unknown, IdentityDeletionEvents>) {
    this.#context = context;
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

  /** Takes over the Backbone's list, e.g. after being offline; announces nothing. */
  async replaceAll(processes: readonly IdentityDeletionProcessDTO[]): Promise<void> {
    if (processes.length > 0)
      await this.processes.commit(processes.map((process) => this.processes.put(process)));
  }

  /**
   * Keeps a process's new state and announces it; a state already kept (the same push handed over twice)
   * changes nothing and announces nothing. The event gets a copy of its own.
   */
  async record(process: IdentityDeletionProcessDTO): Promise<void> {
    const kept = await this.processes.get(process.id);
    if (isDeepStrictEqual(kept, process)) return;
    await this.processes.save(process);
    this.#context.events.publish("transport.identityDeletionProcessStatusChanged", { ...process });
  }

  async activeProcess(): Promise<IdentityDeletionProcessDTO | undefined> {
    return (await this.processes.list()).find(isActive);
  }

  async standing(): Promise<DeletionStanding> {
    return standingOf(await this.activeProcess(), this.#context.clock.now());
  }
}
