import type { RuntimeContext, Store } from "../core/context.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageChange } from "../core/storage.js";
import type { IdentityDeletionEvents } from "./events.js";
import { isActive, standingOf } from "./model.js";
import type { DeletionStanding, IdentityDeletionProcessDTO } from "./model.js";

const NO_DELETION: DeletionStanding = { kind: "none" };

/**
 * The runtime's copy of its own deletion processes, whose owner is the Backbone. The active one is also kept
 * in memory, so the "deleted identity" check on every mutating call costs no storage read.
 */
export class OwnDeletionStore implements Store {
  readonly processes: RecordCollection<IdentityDeletionProcessDTO>;
  readonly #context: RuntimeContext<unknown, IdentityDeletionEvents>;
  #active: IdentityDeletionProcessDTO | undefined;

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
    const active = processes.find(isActive);
    this.#active = active === undefined ? undefined : { ...active };
  }

  /**
   * Keeps a process's new state and announces it. The kept copy, the event's and the returned one are three
   * objects (a DTO's fields are all strings), so no caller or listener can edit what the runtime relies on.
   */
  async record(process: IdentityDeletionProcessDTO): Promise<IdentityDeletionProcessDTO> {
    await this.processes.save(process);
    if (isActive(process)) this.#active = { ...process };
    else if (this.#active?.id === process.id) this.#active = undefined;
    this.#context.events.publish("transport.identityDeletionProcessStatusChanged", { ...process });
    return { ...process };
  }

  activeProcess(): IdentityDeletionProcessDTO | undefined {
    return this.#active === undefined ? undefined : { ...this.#active };
  }

  standing(): DeletionStanding {
    // Checked on every mutating call: without an active process there is no need to read the clock.
    return this.#active === undefined ? NO_DELETION : standingOf(this.#active, this.#context.clock.now());
  }
}
