import type { Clock } from "../core/clock.js";
import type { Publisher } from "../core/events.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageAdapter } from "../core/storage.js";
import type { IdentityDeletionEvents } from "./events.js";
import { isActive, standingOf } from "./model.js";
import type { DeletionStanding, IdentityDeletionProcessDTO } from "./model.js";

const NO_DELETION: DeletionStanding = { kind: "none" };

export function processCollection(
  storage: StorageAdapter,
  scope: string,
): RecordCollection<IdentityDeletionProcessDTO> {
  return new RecordCollection<IdentityDeletionProcessDTO>(storage, `${scope}/identityDeletionProcesses`);
}

/**
 * The runtime's copy of its own deletion processes, whose owner is the Backbone. The active one is also kept
 * in memory, so the "deleted identity" check on every mutating call costs no storage read.
 */
export class OwnDeletion {
  private active: IdentityDeletionProcessDTO | undefined;

  constructor(
    readonly processes: RecordCollection<IdentityDeletionProcessDTO>,
    private readonly events: Publisher<IdentityDeletionEvents>,
    private readonly clock: Clock,
  ) {}

  /** Takes over the Backbone's list, e.g. after being offline; announces nothing. */
  async replaceAll(processes: readonly IdentityDeletionProcessDTO[]): Promise<void> {
    if (processes.length > 0)
      await this.processes.commit(processes.map((process) => this.processes.put(process)));
    const active = processes.find(isActive);
    this.active = active === undefined ? undefined : { ...active };
  }

  /**
   * Keeps a process's new state and announces it. The kept copy, the event's and the returned one are three
   * objects (a DTO's fields are all strings), so no caller or listener can edit what the runtime relies on.
   */
  async record(process: IdentityDeletionProcessDTO): Promise<IdentityDeletionProcessDTO> {
    await this.processes.save(process);
    if (isActive(process)) this.active = { ...process };
    else if (this.active?.id === process.id) this.active = undefined;
    this.events.publish("transport.identityDeletionProcessStatusChanged", { ...process });
    return { ...process };
  }

  activeProcess(): IdentityDeletionProcessDTO | undefined {
    return this.active === undefined ? undefined : { ...this.active };
  }

  standing(): DeletionStanding {
    // Checked on every mutating call: without an active process there is no need to read the clock.
    return this.active === undefined ? NO_DELETION : standingOf(this.active, this.clock.now());
  }
}
