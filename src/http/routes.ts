import type { RuntimeResult } from "../core/errors.js";
import type { Runtime } from "../runtime/runtime.js";

export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE";

/** What a route receives: the query (`key=` present but empty is the empty string) and the JSON body. */
export interface RouteInput {
  query: Record<string, string>;
  body: unknown;
  params: Record<string, string>;
}

/** One route of the API: what it does and how the OpenAPI document describes it. */
export interface Route {
  method: HttpMethod;
  /** Below the prefix (/api/v2 or /api/core/v1); `{id}` marks a path parameter. */
  path: string;
  operationId: string;
  summary: string;
  /** The status of a success; 204 answers without a body. */
  successStatus: 200 | 201 | 204;
  query?: Record<string, { description: string; required: boolean }>;
  /** The request body's JSON schema, for routes that take one. */
  body?: Record<string, unknown>;
  /** The JSON schema of `result` in the success envelope. */
  result?: Record<string, unknown>;
  run(runtime: Runtime, input: RouteInput): Promise<RuntimeResult<unknown>>;
}

export const ADDRESS = { type: "string", pattern: "^did:e:[a-z0-9.-]+:dids:[0-9a-f]{22}$" };
const JSON_VALUE = { description: "Any JSON value: string, number, boolean, null, array or object." };
const IDENTITY_METADATA = {
  type: "object",
  required: ["id", "reference", "value"],
  properties: {
    id: { type: "string", pattern: "^IDM[A-Za-z0-9]{17}$" },
    reference: ADDRESS,
    key: { type: "string" },
    value: JSON_VALUE,
  },
};
export const PROCESS = {
  type: "object",
  required: ["id", "status", "createdAt"],
  properties: {
    id: { type: "string", pattern: "^IDP[A-Za-z0-9]{17}$" },
    status: { enum: ["WaitingForApproval", "Rejected", "Approved", "Cancelled"] },
    createdAt: { type: "string", format: "date-time" },
    approvalPeriodEndsAt: { type: "string", format: "date-time" },
    approvedAt: { type: "string", format: "date-time" },
    rejectedAt: { type: "string", format: "date-time" },
    gracePeriodEndsAt: { type: "string", format: "date-time" },
    cancelledAt: { type: "string", format: "date-time" },
  },
};
const SLOT_QUERY = {
  reference: { description: "The address the IdentityMetadata is about.", required: true },
  key: {
    description: 'The key; `key=` is the empty key, no `key` parameter the "no key" slot.',
    required: false,
  },
};

/** The slot named by the query: every parameter passed on as given, so validation names what is wrong. */
const slotOf = (query: Record<string, string>) => ({ ...query });

/** Every route the handler serves, and so every path of the OpenAPI document. */
export const ROUTES: readonly Route[] = [
  {
    method: "PUT",
    path: "/IdentityMetadata",
    operationId: "upsertIdentityMetadata",
    summary:
      "Creates the IdentityMetadata of a (reference, key) slot or replaces its value (200 either way).",
    successStatus: 200,
    body: {
      type: "object",
      required: ["reference", "value"],
      additionalProperties: false,
      properties: { reference: ADDRESS, key: { type: "string" }, value: JSON_VALUE },
    },
    result: IDENTITY_METADATA,
    run: (runtime, { body }) => runtime.identityMetadata.upsertIdentityMetadata(body as never),
  },
  {
    method: "GET",
    path: "/IdentityMetadata",
    operationId: "getIdentityMetadata",
    summary: "The IdentityMetadata of a (reference, key) slot.",
    successStatus: 200,
    query: SLOT_QUERY,
    result: IDENTITY_METADATA,
    run: (runtime, { query }) => runtime.identityMetadata.getIdentityMetadata(slotOf(query) as never),
  },
  {
    method: "DELETE",
    path: "/IdentityMetadata",
    operationId: "deleteIdentityMetadata",
    summary: "Deletes the IdentityMetadata of a (reference, key) slot.",
    successStatus: 204,
    query: SLOT_QUERY,
    run: (runtime, { query }) => runtime.identityMetadata.deleteIdentityMetadata(slotOf(query) as never),
  },
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
