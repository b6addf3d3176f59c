import type { ServedRoute } from "./route.js";
import { idOf } from "./schemas.js";

export const PROCESS = {
  type: "object",
  required: ["id", "status", "createdAt"],
  properties: {
    id: idOf("IDP"),
    status: { enum: ["WaitingForApproval", "Rejected", "Approved", "Cancelled"] },
    createdAt: { type: "string", format: "date-time" },
    approvalPeriodEndsAt: { type: "string", format: "date-time" },
    approvedAt: { type: "string", format: "date-time" },
    rejectedAt: { type: "string", format: "date-time" },
    gracePeriodEndsAt: { type: "string", format: "date-time" },
    cancelledAt: { type: "string", format: "date-time" },
  },
};

/** The deletion of the own identity: its IdentityDeletionProcesses and whether it is deleted. */
export const IDENTITY_DELETION_ROUTES: readonly ServedRoute[] = [
  {
    method: "POST",
    path: "/IdentityDeletionProcesses",
    operationId: "initiateIdentityDeletionProcess",
    summary: "Starts the deletion of the own identity: an Approved process with a grace period.",
    successStatus: 201,
    body: {
      type: "object",
      additionalProperties: false,
      properties: { lengthOfGracePeriodInDays: { type: "number", minimum: 0 } },
    },
    result: PROCESS,
    run: (runtime, { body }) =>
      runtime.identityDeletion.initiateIdentityDeletionProcess(
        body === undefined ? undefined : (body as never),
      ),
  },
  {
    method: "GET",
    path: "/IdentityDeletionProcesses",
    operationId: "getIdentityDeletionProcesses",
    summary: "Every deletion process of the own identity, oldest first.",
    successStatus: 200,
    result: { type: "array", items: PROCESS },
    run: (runtime) => runtime.identityDeletion.getIdentityDeletionProcesses(),
  },
  {
    method: "GET",
    path: "/IdentityDeletionProcesses/Active",
    operationId: "getActiveIdentityDeletionProcess",
    summary: "The active (WaitingForApproval or Approved) deletion process of the own identity.",
    successStatus: 200,
    result: PROCESS,
    run: (runtime) => runtime.identityDeletion.getActiveIdentityDeletionProcess(),
  },
  {
    method: "POST",
    path: "/IdentityDeletionProcesses/Active/Approve",
    operationId: "approveIdentityDeletionProcess",
    summary: "Approves the process the Backbone Admin UI started.",
    successStatus: 200,
    result: PROCESS,
    run: (runtime) => runtime.identityDeletion.approveIdentityDeletionProcess(),
  },
  {
    method: "POST",
    path: "/IdentityDeletionProcesses/Active/Reject",
    operationId: "rejectIdentityDeletionProcess",
    summary: "Rejects the process the Backbone Admin UI started.",
    successStatus: 200,
    result: PROCESS,
    run: (runtime) => runtime.identityDeletion.rejectIdentityDeletionProcess(),
  },
  {
    method: "POST",
    path: "/IdentityDeletionProcesses/Active/Cancel",
    operationId: "cancelIdentityDeletionProcess",
    summary: "Cancels the Approved process within its grace period.",
    successStatus: 200,
    result: PROCESS,
    run: (runtime) => runtime.identityDeletion.cancelIdentityDeletionProcess(),
  },
  {
    method: "GET",
    path: "/IdentityDeletionProcesses/{id}",
    operationId: "getIdentityDeletionProcess",
    summary: "One deletion process of the own identity.",
    successStatus: 200,
    result: PROCESS,
    run: (runtime, { params }) =>
      runtime.identityDeletion.getIdentityDeletionProcess({ id: params["id"] ?? "" }),
  },
  {
    method: "GET",
    path: "/IdentityDeletionStatus",
    operationId: "checkIfIdentityIsDeleted",
    summary: "Whether the own identity has been deleted, and when it is (or was) deleted.",
    successStatus: 200,
    result: {
      type: "object",
      required: ["isDeleted"],
      properties: { isDeleted: { type: "boolean" }, deletionDate: { type: "string", format: "date-time" } },
    },
    run: (runtime) => runtime.identityDeletion.checkIfIdentityIsDeleted(),
  },
];
