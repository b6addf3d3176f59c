import { fail, succeed } from "../../core/errors.js";
import type { RuntimeResult } from "../../core/errors.js";
import { idPattern } from "../../core/ids.js";
import { requestSchema, rules, validateRequest } from "../../core/validation.js";
import type { RelationshipTemplateDTO } from "../../relationships/model.js";
import type { Runtime } from "../../runtime/runtime.js";
import { connectorTemplate, decodeTruncatedReference } from "./connector-shapes.js";
import type { ConnectorTemplate } from "./connector-shapes.js";
import { notImplemented, withoutUnmodelled } from "./not-modelled.js";
import { filterParameters, listFilter } from "./query.js";
import type { ListFilters } from "./query.js";
import { shapedAs } from "./route.js";
import type { RouteResult, ServedRoute } from "./route.js";
import { JSON_VALUE, listOf, TEMPLATE } from "./schemas.js";

const TEMPLATE_ID = idPattern("RLT");
const loadRequest = requestSchema({ reference: rules.string() });

/** The template a reference names: its id, or its truncatedReference; a token's reference is not modelled. */
function templateIdOf(reference: string): RouteResult<string> {
  if (TEMPLATE_ID.test(reference)) return succeed(reference);
  const decoded = decodeTruncatedReference(reference);
  if (decoded !== undefined && TEMPLATE_ID.test(decoded)) return succeed(decoded);
  // "VE9L…" is the truncated reference of a token ("TOK…"), which would carry the template's reference.
  if (decoded?.startsWith("TOK") === true) return notImplemented("tokens");
  return fail(
    "error.runtime.validation.invalidPropertyValue",
    "reference must be a template's id (RLT…) or its truncatedReference (UkxU…)",
  );
}

function templateResult(runtime: Runtime, template: RuntimeResult<RelationshipTemplateDTO>): RouteResult {
  return shapedAs(template, (value) => connectorTemplate(value, runtime.address));
}

const BY_CREATOR: ListFilters<ConnectorTemplate> = {
  createdBy: {
    description: "Only the templates created by this address.",
    rule: rules.address(),
    valuesOf: (template) => [template.createdBy],
  },
};
const ALL_FILTERS: ListFilters<ConnectorTemplate> = {
  ...BY_CREATOR,
  isOwn: {
    description: "`true`: only the own templates; `false`: only the peers'.",
    rule: rules.oneOf(["true", "false"]),
    valuesOf: (template) => [String(template.isOwn)],
  },
};

/** A list route of the templates kept locally: those `kept` lets through and the query's filters match. */
function listRoute(
  path: string,
  operationId: string,
  summary: string,
  filters: ListFilters<ConnectorTemplate>,
  kept: (template: ConnectorTemplate) => boolean,
): ServedRoute {
  return {
    method: "GET",
    path,
    operationId,
    summary,
    successStatus: 200,
    query: filterParameters(filters),
    result: listOf(TEMPLATE),
    run: async (runtime, { query }) => {
      const matches = listFilter(query, filters);
      if (matches.err) return matches;
      return shapedAs(await runtime.relationships.getRelationshipTemplates(), (all) =>
        all
          .map((template) => connectorTemplate(template, runtime.address))
          .filter((template) => kept(template) && matches.val(template)),
      );
    },
  };
}

/** Relationship templates: the own ones peers create relationships from, and the peers' ones loaded here. */
export const RELATIONSHIP_TEMPLATE_ROUTES: readonly ServedRoute[] = [
  {
    method: "POST",
    path: "/RelationshipTemplates/Own",
    operationId: "createOwnRelationshipTemplate",
    summary:
      "Creates an own template on the Backbone. `forIdentity` and `passwordProtection` are not modelled (501).",
    successStatus: 201,
    body: {
      type: "object",
      additionalProperties: false,
      properties: {
        content: JSON_VALUE,
        expiresAt: {
          type: "string",
          format: "date-time",
          description: "In the future; none: never expires.",
        },
        maxNumberOfAllocations: { type: "integer", minimum: 1, description: "None: unlimited." },
      },
    },
    result: TEMPLATE,
    run: async (runtime, { body }) => {
      const modelled = withoutUnmodelled(body, {
        forIdentity: "templates for one identity (forIdentity)",
        passwordProtection: "password-protected templates",
      });
      if (modelled.err) return modelled;
      return templateResult(
        runtime,
        await runtime.relationships.createOwnRelationshipTemplate(modelled.val as never),
      );
    },
  },
  listRoute(
    "/RelationshipTemplates",
    "getRelationshipTemplates",
    "The templates kept locally, own and loaded, oldest first.",
    ALL_FILTERS,
    () => true,
  ),
  listRoute(
    "/RelationshipTemplates/Own",
    "getOwnRelationshipTemplates",
    "The own templates, oldest first.",
    BY_CREATOR,
    (template) => template.isOwn,
  ),
  listRoute(
    "/RelationshipTemplates/Peer",
    "getPeerRelationshipTemplates",
    "The peers' templates loaded here, oldest first.",
    BY_CREATOR,
    (template) => !template.isOwn,
  ),
  {
    method: "POST",
    path: "/RelationshipTemplates/Peer",
    operationId: "loadPeerRelationshipTemplate",
    summary:
      "Loads a peer's template from the Backbone by its id or truncatedReference and keeps it. A token's " +
      "reference (VE9L…) and `password` are not modelled (501).",
    successStatus: 201,
    body: {
      type: "object",
      required: ["reference"],
      additionalProperties: false,
      properties: {
        reference: {
          type: "string",
          description: "The template's id (RLT…) or its truncatedReference (UkxU…).",
        },
      },
    },
    result: TEMPLATE,
    run: async (runtime, { body }) => {
      const modelled = withoutUnmodelled(body, { password: "password-protected templates" });
      if (modelled.err) return modelled;
      const request = validateRequest(loadRequest, modelled.val);
      if (request.err) return request;
      const id = templateIdOf(request.val.reference);
      if (id.err) return id;
      return templateResult(runtime, await runtime.relationships.getRelationshipTemplate({ id: id.val }));
    },
  },
  {
    method: "GET",
    path: "/RelationshipTemplates/{id}",
    operationId: "getRelationshipTemplate",
    summary: "A template by id: an own one, or a peer's (loaded from the Backbone if not kept yet).",
    successStatus: 200,
    result: TEMPLATE,
    run: async (runtime, { params }) =>
      templateResult(
        runtime,
        await runtime.relationships.getRelationshipTemplate({ id: params["id"] ?? "" }),
      ),
  },
];
