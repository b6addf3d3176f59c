import type { Runtime } from "../../runtime/runtime.js";
import { singleValued } from "../request.js";
import type { RouteQuery, RouteResult, ServedRoute } from "./route.js";
import { ADDRESS, idOf, JSON_VALUE } from "./schemas.js";

const IDENTITY_METADATA = {
  type: "object",
  required: ["id", "reference", "value"],
  properties: { id: idOf("IDM"), reference: ADDRESS, key: { type: "string" }, value: JSON_VALUE },
};
const SLOT_QUERY = {
  reference: { description: "The address the IdentityMetadata is about.", required: true },
  key: {
    description: 'The key; `key=` is the empty key, no `key` parameter the "no key" slot.',
    required: false,
  },
};

/** Runs a use case on the slot the query names: each parameter given once, passed on so validation names what is wrong. */
async function onSlot(
  query: RouteQuery,
  useCase: (slot: Record<string, string>) => Promise<RouteResult>,
): Promise<RouteResult> {
  const slot = singleValued(query);
  return slot.err ? slot : useCase(slot.val);
}

const metadataOf = (runtime: Runtime) => runtime.identityMetadata;

/** IdentityMetadata: JSON kept about the own identity and its peers, one record per (reference, key) slot. */
export const IDENTITY_METADATA_ROUTES: readonly ServedRoute[] = [
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
    run: (runtime, { body }) => metadataOf(runtime).upsertIdentityMetadata(body as never),
  },
  {
    method: "GET",
    path: "/IdentityMetadata",
    operationId: "getIdentityMetadata",
    summary: "The IdentityMetadata of a (reference, key) slot.",
    successStatus: 200,
    query: SLOT_QUERY,
    result: IDENTITY_METADATA,
    run: (runtime, { query }) =>
      onSlot(query, (slot) => metadataOf(runtime).getIdentityMetadata(slot as never)),
  },
  {
    method: "DELETE",
    path: "/IdentityMetadata",
    operationId: "deleteIdentityMetadata",
    summary: "Deletes the IdentityMetadata of a (reference, key) slot.",
    successStatus: 204,
    query: SLOT_QUERY,
    run: (runtime, { query }) =>
      onSlot(query, (slot) => metadataOf(runtime).deleteIdentityMetadata(slot as never)),
  },
];
