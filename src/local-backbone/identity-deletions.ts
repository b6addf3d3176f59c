import { addDays } from "../core/clock.js";
import type { Clock } from "../core/clock.js";
import { fail, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { RecordCollection } from "../core/record-collection.js";
import { SlotTakenError } from "../core/storage.js";
import type { StorageAdapter } from "../core/storage.js";
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
 * The Backbone's book of IdentityDeletionProcesses. "At most one active process per identity" is a storage
 * guarantee: an active process holds the identity's slot, so a second one is refused however calls interleave.
 * Callers (the LocalBackbone) serialise mutations and tell runtimes about what changed.
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

  async initiate(
    address: string,
    lengthOfGracePeriodInDays?: number,
  ): Promise<RuntimeResult<StoredIdentityDeletionProcess>> {
    const days = lengthOfGracePeriodInDays ?? this.gracePeriodInDays;
    const now = this.clock.now();
    if (Number.isNaN(addDays(now, days).getTime())) {
      return fail(
        "error.runtime.validation.invalidPropertyValue",
        "lengthOfGracePeriodInDays must end the grace period within the dates JavaScript can represent",
      );
    }
    return this.insert(initiatedProcess(address, now, days));
  }

  startByAdmin(address: string): Promise<RuntimeResult<StoredIdentityDeletionProcess>> {
    return this.insert(startedByAdminProcess(address, this.clock.now(), this.approvalPeriodInDays));
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
    if (decided.ok) await this.processes.save(decided.val);
    return decided;
  }

  /** Applies what is due for one identity, or for all when no address is given. */
  async applyDue(address?: string): Promise<DueOutcome[]> {
    const now = this.clock.now();
    const candidates =
      address === undefined ? await this.processes.list() : await this.processes.listByPeer(address);
    const outcomes: DueOutcome[] = [];
    for (const process of candidates.filter((candidate) => isDue(candidate, now))) {
      const expired = expireApproval(process, now);
      const next: StoredIdentityDeletionProcess = expired ?? { ...process, identityDeleted: true };
      await this.processes.save(next);
      outcomes.push(
        expired === undefined
          ? { kind: "identityDeleted", process: next }
          : { kind: "approvalExpired", process: next },
      );
    }
    return outcomes;
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

  private async insert(
    process: StoredIdentityDeletionProcess,
  ): Promise<RuntimeResult<StoredIdentityDeletionProcess>> {
    try {
      await this.processes.save(process);
      return succeed(process);
    } catch (error) {
      if (error instanceof SlotTakenError) {
        return fail(
          "error.runtime.identityDeletionProcess.activeIdentityDeletionProcessAlreadyExists",
          process.address,
        );
      }
      throw error;
    }
  }
}
