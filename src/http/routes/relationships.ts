import { succeed } from "../../core/errors.js";
import type { RuntimeResult } from "../../core/errors.js";
import { rules } from "../../core/validation.js";
import type { RelationshipIdRequest } from "../../relationships/facade.js";
import { RELATIONSHIP_STATUSES } from "../../relationships/model.js";
import type { RelationshipDTO, RelationshipTemplateDTO } from "../../relationships/model.js";
import type { Runtime } from "../../runtime/runtime.js";
import { connectorRelationship, connectorTemplate } from "./connector-shapes.js";
import type { ConnectorRelationship } from "./connector-shapes.js";
import { filterParameters, listFilter } from "./query.js";
import type { ListFilters } from "./query.js";
import { shapedAs } from "./route.js";
import type { RouteResult, ServedRoute } from "./route.js";
import { CHECK, idOf, JSON_VALUE, listOf, RELATIONSHIP } from "./schemas.js";

/**
 * The relationships in the Connector's shape, each with its template: the kept templates are read in one list,
 * any other (a peer's template forgotten with another relationship to that peer) from the Backbone, once.
 */
async function withTemplates(
  runtime: Runtime,
  relationships: readonly RelationshipDTO[],
): Promise<RuntimeResult<ConnectorRelationship[]>> {
  const kept = await runtime.relationships.getRelationshipTemplates();
  if (kept.err) return kept;
  const templates = new Map<string, RelationshipTemplateDTO>(
    kept.val.map((template) => [template.id, template]),
  );
  const shaped: ConnectorRelationship[] = [];
  for (const relationship of relationships) {
    let template = templates.get(relationship.templateId);
    if (template === undefined) {
      const loaded = await runtime.relationships.getRelationshipTemplate({ id: relationship.templateId });
      if (loaded.err) return loaded;
      template = loaded.val;
      templates.set(template.id, template);
    }
    shaped.push(connectorRelationship(relationship, connectorTemplate(template, runtime.address)));
  }
  return succeed(shaped);
}

async function relationshipResult(
  runtime: Runtime,
  relationship: RuntimeResult<RelationshipDTO>,
): Promise<RouteResult> {
  if (relationship.err) return relationship;
  const shaped = await withTemplates(runtime, [relationship.val]);
  return shapedAs(shaped, ([one]) => one);
}

const FILTERS: ListFilters<ConnectorRelationship> = {
  peer: {
    description: "Only the relationships to this address.",
    rule: rules.address(),
    valuesOf: (relationship) => [relationship.peer],
  },
  status: {
    description: `Only the relationships in this status: ${RELATIONSHIP_STATUSES.join(", ")}.`,
    rule: rules.oneOf(RELATIONSHIP_STATUSES),
    valuesOf: (relationship) => [relationship.status],
  },
  templateId: {
    description: "Only the relationships created from this template.",
    rule: rules.id("RLT"),
    valuesOf: (relationship) => [relationship.templateId],
  },
};

const CREATION_BODY = {
  type: "object",
  required: ["templateId"],
  additionalProperties: false,
  properties: { templateId: idOf("RLT"), creationContent: JSON_VALUE },
};

type StatusChange =
  "acceptRelationship" | "rejectRelationship" | "revokeRelationship" | "terminateRelationship";

/** `PUT /Relationships/{id}/<action>`: one status change of the relationship, answered with its new state. */
function statusChange(action: string, useCase: StatusChange, summary: string): ServedRoute {
  return {
    method: "PUT",
    path: `/Relationships/{id}/${action}`,
    operationId: useCase,
    summary,
    successStatus: 200,
    result: RELATIONSHIP,
    run: async (runtime, { params }) => {
      const request: RelationshipIdRequest = { relationshipId: params["id"] ?? "" };
      return relationshipResult(runtime, await runtime.relationships[useCase](request));
    },
  };
}

/** Relationships to peers, created from their templates. */
export const RELATIONSHIP_ROUTES: readonly ServedRoute[] = [
  {
    method: "PUT",
    path: "/Relationships/CanCreate",
    operationId: "canCreateRelationship",
    summary: "Whether a relationship could be created from the template now, and if not, why. Never acts.",
    successStatus: 200,
    body: CREATION_BODY,
    result: CHECK,
    run: (runtime, { body }) => runtime.relationships.canCreateRelationship(body as never),
  },
  {
    method: "POST",
    path: "/Relationships",
    operationId: "createRelationship",
    summary: "Creates a relationship from a peer's template: Pending until the template's creator accepts.",
    successStatus: 201,
    body: CREATION_BODY,
    result: RELATIONSHIP,
    run: async (runtime, { body }) =>
      relationshipResult(runtime, await runtime.relationships.createRelationship(body as never)),
  },
  {
    method: "GET",
    path: "/Relationships",
    operationId: "getRelationships",
    summary: "The relationships of the own identity, oldest first.",
    successStatus: 200,
    query: filterParameters(FILTERS),
    result: listOf(RELATIONSHIP),
    run: async (runtime, { query }) => {
      const matches = listFilter(query, FILTERS);
      if (matches.err) return matches;
      const relationships = await runtime.relationships.getRelationships();
      if (relationships.err) return relationships;
      const shaped = await withTemplates(runtime, relationships.val);
      return shapedAs(shaped, (all) => all.filter(matches.val));
    },
  },
  {
    method: "GET",
    path: "/Relationships/{id}",
    operationId: "getRelationship",
    summary: "A relationship by id.",
    successStatus: 200,
    result: RELATIONSHIP,
    run: async (runtime, { params }) =>
      relationshipResult(runtime, await runtime.relationships.getRelationship({ id: params["id"] ?? "" })),
  },
  statusChange(
    "Accept",
    "acceptRelationship",
    "Accepts a Pending relationship created from an own template: Active on both sides.",
  ),
  statusChange(
    "Reject",
    "rejectRelationship",
    "Rejects a Pending relationship created from an own template.",
  ),
  statusChange("Revoke", "revokeRelationship", "Withdraws a Pending relationship the own identity created."),
  statusChange(
    "Terminate",
    "terminateRelationship",
    "Ends an Active relationship: Terminated on both sides.",
  ),
  {
    method: "DELETE",
    path: "/Relationships/{id}",
    operationId: "decomposeRelationship",
    summary:
      "Decomposes a Terminated or DeletionProposed relationship: it, and everything kept about the peer, is gone.",
    successStatus: 204,
    run: (runtime, { params }) =>
      runtime.relationships.decomposeRelationship({ relationshipId: params["id"] ?? "" }),
  },
];
