import { addDays } from "../core/clock.js";
import type { Clock } from "../core/clock.js";
import { fail, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { RecordCollection } from "../core/record-collection.js";
import { SlotTakenError } from "../core/storage.js";
import type { StorageOperations } from "../core/storage.js";
import { combined } from "../core/unit-of-work.js";
import type { CommitAndDeliver, UnitOfWork } from "../core/unit-of-work.js";
import {
  decide,
  initiatedProcess,
  isActive,
  isDue,
  nextDueInstant,
  standingOf,
  startedByAdminProcess,
  toProcessDTO,
  withDueApplied,
} from "./model.js";
import type {
  DeletionChange,
  DeletionStanding,
  IdentityDeletionDecision,
  IdentityDeletionProcessDTO,
  StoredIdentityDeletionProcess,
} from "./model.js";

/** The topic a change of a deletion process notifies: when something becomes due may have changed. */
export const DUE_JOBS_CHANGED = "backbone/dueJobs";

/** What the Backbone pushes to an identity about its own deletion. */
export type DeletionPush = { kind: "identityDeletionProcessChanged"; process: IdentityDeletionProcessDTO };

/**
 * What a deletion means for the other capabilities on the Backbone (behaviour §5, §7): the changes and pushes
 * to write in the same unit of work as the process. Given by the LocalBackbone, which knows them all.
 */
export type DeletionConsequences<P> = (address: string, change: DeletionChange) => Promise<UnitOfWork<P>>;

/**
 * The identity-deletion part of the LocalBackbone: the IdentityDeletionProcesses of every identity, their
 * changes and their expiries, each written with everything it entails in one unit of work. "At most one
 * active process per identity" is a storage guarantee: an active process holds the identity's slot, so
 * writing a second one fails with SlotTakenError however calls interleave, even across processes.
 */
export class LocalIdentityDeletions<P> {
  readonly #processes: RecordCollection<StoredIdentityDeletionProcess>;
  readonly #clock: Clock;
  readonly #gracePeriodInDays: number;
  readonly #approvalPeriodInDays: number;
  readonly #consequences: DeletionConsequences<P>;
  readonly #commit: CommitAndDeliver<P | DeletionPush>;

  constructor(parts: {
    storage: StorageOperations;
    clock: Clock;
    gracePeriodInDays: number;
    approvalPeriodInDays: number;
    consequences: DeletionConsequences<P>;
    commit: CommitAndDeliver<P | DeletionPush>;
  }) {
    this.#processes = new RecordCollection<StoredIdentityDeletionProcess>(
      parts.storage,
      "backbone/identityDeletionProcesses",
      (process) =>
        isActive(process)
          ? { slot: process.address, peers: [process.address] }
          : { peers: [process.address] },
    );
    this.#clock = parts.clock;
    this.#gracePeriodInDays = parts.gracePeriodInDays;
    this.#approvalPeriodInDays = parts.approvalPeriodInDays;
    this.#consequences = parts.consequences;
    this.#commit = parts.commit;
  }

  async standing(address: string): Promise<DeletionStanding> {
    return standingOf(await this.#processes.getBySlot(address), this.#clock.now());
  }

  /** Every process of the identity, oldest first, with what became due applied. */
  async list(address: string): Promise<IdentityDeletionProcessDTO[]> {
    await this.applyDue(address);
    return (await this.#processes.listByPeer(address)).map(toProcessDTO);
  }

  /** The identity starts its own deletion: Approved at once. */
  async initiate(
    address: string,
    lengthOfGracePeriodInDays?: number,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    await this.applyDue(address);
    const days = lengthOfGracePeriodInDays ?? this.#gracePeriodInDays;
    const now = this.#clock.now();
    if (Number.isNaN(addDays(now, days).getTime())) {
      return fail(
        "error.runtime.validation.invalidPropertyValue",
        "lengthOfGracePeriodInDays must end the grace period within the dates JavaScript can represent",
      );
    }
    return this.#recorded(initiatedProcess(address, now, days));
  }

  /** The Admin UI starts the deletion on the identity's behalf: WaitingForApproval, and the identity is told. */
  async startByAdmin(address: string): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    await this.applyDue(address);
    const started = startedByAdminProcess(address, this.#clock.now(), this.#approvalPeriodInDays);
    return this.#recorded(started);
  }

  /** The identity's decision on its active process. */
  async decide(
    address: string,
    decision: IdentityDeletionDecision,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    await this.applyDue(address);
    const active = await this.#processes.getBySlot(address);
    const decided = decide(address, active, decision, this.#clock.now(), this.#gracePeriodInDays);
    return decided.err ? decided : this.#recorded(decided.val);
  }

  /**
   * Applies what is due for the identity: an undecided process past its approval period becomes Cancelled,
   * an identity past its grace period is deleted; each with its consequences in one unit of work.
   */
  async applyDue(address: string): Promise<void> {
    const now = this.#clock.now();
    for (const process of (await this.#processes.listByPeer(address)).filter((each) => isDue(each, now))) {
      const recorded = await this.#record(withDueApplied(process, now));
      if (recorded.err) throw new Error(recorded.val.message);
    }
  }

  /**
   * Every process of the identity, oldest first, as it stands now: what became due is shown applied but not
   * written, so a read (of any number of identities) needs no transaction.
   */
  async listAsOfNow(address: string): Promise<StoredIdentityDeletionProcess[]> {
    const now = this.#clock.now();
    return (await this.#processes.listByPeer(address)).map((process) => withDueApplied(process, now));
  }

  /** The identities with something due now. */
  async dueAddresses(): Promise<string[]> {
    const now = this.#clock.now();
    const due = (await this.#processes.list()).filter((process) => isDue(process, now));
    return [...new Set(due.map((process) => process.address))];
  }

  /** The earliest instant after which something becomes due, if any. */
  async nextDueInstant(): Promise<number | undefined> {
    let earliest: number | undefined;
    for (const process of await this.#processes.list()) {
      const due = nextDueInstant(process);
      if (due !== undefined && (earliest === undefined || due < earliest)) earliest = due;
    }
    return earliest;
  }

  async #recorded(
    process: StoredIdentityDeletionProcess,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    const recorded = await this.#record(process);
    return recorded.err ? recorded : succeed(toProcessDTO(process));
  }

  /**
   * Writes a process together with what it means for others, and tells the runtimes: approved → peers hear
   * ToBeDeleted; cancelled after approval → peers hear the cancellation; deleted → peers hear Deleted. The
   * owner hears every new state of its process, those it caused too: its runtime keeps its copy from the
   * one ordered stream of its pushes.
   */
  async #record(process: StoredIdentityDeletionProcess): Promise<RuntimeResult<void>> {
    const { address } = process;
    const parts: UnitOfWork<P | DeletionPush>[] = [
      // The notification sets the due-job timers of every Backbone on the storage anew.
      {
        changes: [this.#processes.put(process), { kind: "notify", topic: DUE_JOBS_CHANGED }],
        deliveries: [],
      },
    ];
    // The identity's deletion leaves its process as it was: there is nothing new to tell the owner.
    if (process.identityDeleted !== true) {
      const push: DeletionPush = { kind: "identityDeletionProcessChanged", process: toProcessDTO(process) };
      parts.push({ changes: [], deliveries: [{ address, push }] });
    }
    const change = changeOf(process);
    if (change !== undefined) parts.push(await this.#consequences(address, change));
    try {
      await this.#commit(combined(parts));
      return succeed(undefined);
    } catch (error) {
      // A second active process for the identity: its slot is taken, and nothing of this unit was written.
      if (error instanceof SlotTakenError) {
        return fail(
          "error.runtime.identityDeletionProcess.activeIdentityDeletionProcessAlreadyExists",
          address,
        );
      }
      throw error;
    }
  }
}

/** What a process's new state tells the others, if anything (a WaitingForApproval process tells nothing). */
function changeOf(process: StoredIdentityDeletionProcess): DeletionChange | undefined {
  if (process.identityDeleted === true) {
    return { kind: "deleted", deletionDate: process.gracePeriodEndsAt as string };
  }
  if (process.status === "Approved") {
    return { kind: "toBeDeleted", deletionDate: process.gracePeriodEndsAt as string };
  }
  if (process.status === "Cancelled" && process.approvedAt !== undefined) return { kind: "cancelled" };
  return undefined;
}
