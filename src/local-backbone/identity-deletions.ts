import { addDays } from "../core/clock.js";
import type { Clock } from "../core/clock.js";
import { fail, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageAdapter, StorageChange } from "../core/storage.js";
import {
  decide,
  expireApproval,
  initiatedProcess,
  isActive,
  isDue,
  nextDueInstant,
  standingOf,
  startedByAdminProcess,
} from "../identity-deletion/model.js";
import type {
  DeletionStanding,
  IdentityDeletionDecision,
  StoredIdentityDeletionProcess,
} from "../identity-deletion/model.js";

/** What applying one due process did. */
export type DueOutcome =
  | { kind: "approvalExpired"; process: StoredIdentityDeletionProcess }
  | { kind: "identityDeleted"; process: StoredIdentityDeletionProcess };

/**
 * The Backbone's book of IdentityDeletionProcesses: it reads them and plans their changes; the LocalBackbone
 * writes each change with everything it entails in one unit of work. "At most one active process per identity"
 * is a storage guarantee: an active process holds the identity's slot, so writing a second one fails with
 * SlotTakenError however calls interleave, even across processes.
 */
export class IdentityDeletions {
  private readonly processes: RecordCollection<StoredIdentityDeletionProcess>;

  constructor(
    storage: StorageAdapter,
    private readonly clock: Clock,
    private readonly gracePeriodInDays: number,
    private readonly approvalPeriodInDays: number,
  ) {
    this.processes = new RecordCollection<StoredIdentityDeletionProcess>(
      storage,
      "backbone/identityDeletionProcesses",
      (process) =>
        isActive(process)
          ? { slot: process.address, peers: [process.address] }
          : { peers: [process.address] },
    );
  }

  active(address: string): Promise<StoredIdentityDeletionProcess | undefined> {
    return this.processes.getBySlot(address);
  }

  async standing(address: string): Promise<DeletionStanding> {
    return standingOf(await this.active(address), this.clock.now());
  }

  list(address: string): Promise<StoredIdentityDeletionProcess[]> {
    return this.processes.listByPeer(address);
  }

  /** The process the identity starts itself, not yet written; or why it may not be. */
  initiate(
    address: string,
    lengthOfGracePeriodInDays?: number,
  ): RuntimeResult<StoredIdentityDeletionProcess> {
    const days = lengthOfGracePeriodInDays ?? this.gracePeriodInDays;
    const now = this.clock.now();
    if (Number.isNaN(addDays(now, days).getTime())) {
      return fail(
        "error.runtime.validation.invalidPropertyValue",
        "lengthOfGracePeriodInDays must end the grace period within the dates JavaScript can represent",
      );
    }
    return succeed(initiatedProcess(address, now, days));
  }

  /** The process the Admin UI starts, not yet written. */
  startByAdmin(address: string): StoredIdentityDeletionProcess {
    return startedByAdminProcess(address, this.clock.now(), this.approvalPeriodInDays);
  }

  async decide(
    address: string,
    decision: IdentityDeletionDecision,
  ): Promise<RuntimeResult<StoredIdentityDeletionProcess>> {
    const decided = decide(
      address,
      await this.active(address),
      decision,
      this.clock.now(),
      this.gracePeriodInDays,
    );
    return decided;
  }

  /** What is due for one identity, or for all when no address is given: the processes as they become, unwritten. */
  async due(address?: string): Promise<DueOutcome[]> {
    const now = this.clock.now();
    const candidates =
      address === undefined ? await this.processes.list() : await this.processes.listByPeer(address);
    return candidates
      .filter((candidate) => isDue(candidate, now))
      .map((process): DueOutcome => {
        const expired = expireApproval(process, now);
        return expired === undefined
          ? { kind: "identityDeleted", process: { ...process, identityDeleted: true } }
          : { kind: "approvalExpired", process: expired };
      });
  }

  /** The change that writes a process, for a unit of work with everything it entails. */
  put(process: StoredIdentityDeletionProcess): StorageChange {
    return this.processes.put(process);
  }

  /** The earliest instant after which something becomes due, if any. */
  async nextDueInstant(): Promise<number | undefined> {
    let earliest: number | undefined;
    for (const process of await this.processes.list()) {
      const due = nextDueInstant(process);
      if (due !== undefined && (earliest === undefined || due < earliest)) earliest = due;
    }
    return earliest;
  }
}
