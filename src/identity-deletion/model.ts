import type { Result } from "../core/result.js";
import { addDays } from "../core/clock.js";
import { fail, succeed } from "../core/errors.js";
import type { RuntimeError } from "../core/errors.js";
import { generateId } from "../core/ids.js";

/**
 * WaitingForApproval: started by the Backbone Admin UI, waiting for the identity's decision; Approved: the
 * identity is deleted once the grace period has passed; Rejected and Cancelled: ended, nothing is deleted.
 * WaitingForApproval and Approved processes are active.
 * @example
 * const processes = (await runtime.identityDeletion.getIdentityDeletionProcesses()).unwrap();
 * const ended: IdentityDeletionProcessStatus[] = ["Rejected", "Cancelled"];
 * const past = processes.filter((process) => ended.includes(process.status));
 */
export type IdentityDeletionProcessStatus = "WaitingForApproval" | "Rejected" | "Approved" | "Cancelled";

/**
 * The process of deleting one identity (behaviour §4). Dates are ISO strings with milliseconds.
 * @example
 * runtime.events.on("transport.identityDeletionProcessStatusChanged", (event) => {
 *   const process: IdentityDeletionProcessDTO = event.data;
 *   if (process.status === "Approved") console.log(`deleted after ${process.gracePeriodEndsAt}`);
 * });
 */
export interface IdentityDeletionProcessDTO {
  /** `"IDP"` followed by 17 letters and digits. */
  id: string;
  /** Where the process stands; WaitingForApproval and Approved are active. */
  status: IdentityDeletionProcessStatus;
  /** When the identity or the Backbone Admin UI started the process. */
  createdAt: string;
  /** Until when a process started by the Admin UI can be approved or rejected (this instant included). */
  approvalPeriodEndsAt?: string;
  /** When the process became Approved: at once when the identity started it itself. */
  approvedAt?: string;
  /** When the identity rejected the process the Admin UI started. */
  rejectedAt?: string;
  /** Set on approval: the identity is deleted once this instant has passed, unless cancelled before. */
  gracePeriodEndsAt?: string;
  /** When the Approved process was cancelled; for one whose approval period passed undecided, that period's end. */
  cancelledAt?: string;
  /** The device fields of the enmeshed record; this library has no devices, so they are never set. */
  createdByDevice?: string;
  /** Never set: this library has no devices. */
  approvedByDevice?: string;
  /** Never set: this library has no devices. */
  rejectedByDevice?: string;
  /** Never set: this library has no devices. */
  cancelledByDevice?: string;
}

/** The Backbone's record of a process: the DTO, the identity it deletes, and whether that deletion happened. */
export interface StoredIdentityDeletionProcess extends IdentityDeletionProcessDTO {
  address: string;
  /** Set once the grace period has passed and the Backbone has deleted the identity. */
  identityDeleted?: true;
}

/** Where an identity stands: what its peers are told (behaviour §5) and what its own runtime answers. */
export type DeletionStanding =
  { kind: "none" } | { kind: "inDeletion"; deletionDate: string } | { kind: "deleted"; deletionDate: string };

export function isActive(process: IdentityDeletionProcessDTO): boolean {
  return process.status === "WaitingForApproval" || process.status === "Approved";
}

/**
 * Whether `instant` lies after the end of a period. A period includes its end instant: at exactly
 * `approvalPeriodEndsAt` a process can still be approved, at exactly `gracePeriodEndsAt` still cancelled.
 */
export function hasPassed(end: string | undefined, now: Date): boolean {
  return end !== undefined && now.getTime() > Date.parse(end);
}

export function standingOf(active: IdentityDeletionProcessDTO | undefined, now: Date): DeletionStanding {
  if (active?.status !== "Approved" || active.gracePeriodEndsAt === undefined) return { kind: "none" };
  const deletionDate = active.gracePeriodEndsAt;
  return hasPassed(deletionDate, now)
    ? { kind: "deleted", deletionDate }
    : { kind: "inDeletion", deletionDate };
}

/** A process the identity started itself: Approved at once, deleted when the grace period has passed. */
export function initiatedProcess(
  address: string,
  now: Date,
  gracePeriodInDays: number,
): StoredIdentityDeletionProcess {
  const at = now.toISOString();
  return {
    id: generateId("IDP"),
    address,
    status: "Approved",
    createdAt: at,
    approvedAt: at,
    gracePeriodEndsAt: addDays(now, gracePeriodInDays).toISOString(),
  };
}

/** A process the Backbone Admin UI started: it waits for the identity's approval. */
export function startedByAdminProcess(
  address: string,
  now: Date,
  approvalPeriodInDays: number,
): StoredIdentityDeletionProcess {
  return {
    id: generateId("IDP"),
    address,
    status: "WaitingForApproval",
    createdAt: now.toISOString(),
    approvalPeriodEndsAt: addDays(now, approvalPeriodInDays).toISOString(),
  };
}

/**
 * What an identity can decide about its own active process.
 * @example
 * const decide: Record<IdentityDeletionDecision, IdentityDeletionFacade["approveIdentityDeletionProcess"]> = {
 *   approve: runtime.identityDeletion.approveIdentityDeletionProcess,
 *   reject: runtime.identityDeletion.rejectIdentityDeletionProcess,
 *   cancel: runtime.identityDeletion.cancelIdentityDeletionProcess,
 * };
 * await decide["reject"]();
 */
export type IdentityDeletionDecision = "approve" | "reject" | "cancel";

/**
 * What an identity's deletion tells the others (behaviour §5): it is to be deleted (Approved), it cancelled
 * after approval, or it has been deleted.
 */
export type DeletionChange =
  | { kind: "toBeDeleted"; deletionDate: string }
  | { kind: "cancelled" }
  | { kind: "deleted"; deletionDate: string };

/** The process after the identity's decision, or the documented error when there is nothing to decide. */
export function decide(
  address: string,
  active: StoredIdentityDeletionProcess | undefined,
  decision: IdentityDeletionDecision,
  now: Date,
  gracePeriodInDays: number,
): Result<StoredIdentityDeletionProcess, RuntimeError> {
  const at = now.toISOString();
  switch (decision) {
    case "approve":
    case "reject":
      if (active?.status !== "WaitingForApproval" || hasPassed(active.approvalPeriodEndsAt, now)) {
        return fail(
          "error.runtime.identityDeletionProcess.noWaitingForApprovalIdentityDeletionProcess",
          address,
        );
      }
      return succeed(
        decision === "approve"
          ? {
              ...active,
              status: "Approved",
              approvedAt: at,
              gracePeriodEndsAt: addDays(now, gracePeriodInDays).toISOString(),
            }
          : { ...active, status: "Rejected", rejectedAt: at },
      );
    case "cancel":
      if (active?.status !== "Approved" || hasPassed(active.gracePeriodEndsAt, now)) {
        return fail("error.runtime.identityDeletionProcess.noApprovedIdentityDeletionProcess", address);
      }
      return succeed({ ...active, status: "Cancelled", cancelledAt: at });
  }
}

/**
 * The process as it stands at `now`: an undecided one past its approval period Cancelled, an Approved one past
 * its grace period with its identity deleted; otherwise unchanged. What `applyDue` writes, and what a read
 * that writes nothing shows before that.
 */
export function withDueApplied(
  process: StoredIdentityDeletionProcess,
  now: Date,
): StoredIdentityDeletionProcess {
  if (!isDue(process, now)) return process;
  return expireApproval(process, now) ?? { ...process, identityDeleted: true };
}

/** An undecided process whose approval period has passed becomes Cancelled at the period's end. */
function expireApproval(
  process: StoredIdentityDeletionProcess,
  now: Date,
): StoredIdentityDeletionProcess | undefined {
  if (process.status !== "WaitingForApproval" || !hasPassed(process.approvalPeriodEndsAt, now))
    return undefined;
  return { ...process, status: "Cancelled", cancelledAt: process.approvalPeriodEndsAt as string };
}

/** The end instant after which something about this process becomes due, if anything still will. */
export function nextDueInstant(process: StoredIdentityDeletionProcess): number | undefined {
  if (process.status === "WaitingForApproval" && process.approvalPeriodEndsAt !== undefined) {
    return Date.parse(process.approvalPeriodEndsAt);
  }
  if (
    process.status === "Approved" &&
    process.identityDeleted !== true &&
    process.gracePeriodEndsAt !== undefined
  ) {
    return Date.parse(process.gracePeriodEndsAt);
  }
  return undefined;
}

/** Whether the process has something due at `now`: an approval period or a grace period that has passed. */
export function isDue(process: StoredIdentityDeletionProcess, now: Date): boolean {
  if (process.status === "WaitingForApproval") return hasPassed(process.approvalPeriodEndsAt, now);
  return (
    process.status === "Approved" &&
    process.identityDeleted !== true &&
    hasPassed(process.gracePeriodEndsAt, now)
  );
}

export function toProcessDTO(process: StoredIdentityDeletionProcess): IdentityDeletionProcessDTO {
  const { address: _address, identityDeleted: _identityDeleted, ...dto } = process;
  return dto;
}
