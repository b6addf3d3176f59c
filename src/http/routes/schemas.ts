// JSON schemas the OpenAPI document shares between route families. The Connector's shapes are components of
// the document, referred to by name, so each appears once however many routes answer it.
import type { IdPrefix } from "../../core/ids.js";
import { RELATIONSHIP_STATUSES } from "../../relationships/model.js";
import { LOCAL_REQUEST_STATUSES } from "../../requests/model.js";

export const ADDRESS = { type: "string", pattern: "^did:e:[a-z0-9.-]+:dids:[0-9a-f]{22}$" };
export const JSON_VALUE = { description: "Any JSON value: string, number, boolean, null, array or object." };
const DATE_TIME = { type: "string", format: "date-time" };
/** A string the Connector requires and this library does not model (devices, keys): always empty. */
const NOT_MODELLED = { const: "", description: "Not modelled by identity-runtime: always empty." };

export function idOf(prefix: IdPrefix): Record<string, unknown> {
  return { type: "string", pattern: `^${prefix}[A-Za-z0-9]{17}$` };
}

/** The names of the Connector's shapes among the document's components. */
type ComponentName =
  "Identity" | "RelationshipTemplate" | "Relationship" | "Message" | "Request" | "RequestValidationResult";

const componentRef = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });

const IDENTITY_SCHEMA = {
  type: "object",
  required: ["address", "publicKey"],
  properties: { address: ADDRESS, publicKey: NOT_MODELLED },
};

const TEMPLATE_SCHEMA = {
  type: "object",
  required: ["id", "isOwn", "createdBy", "createdByDevice", "createdAt", "truncatedReference"],
  properties: {
    id: idOf("RLT"),
    isOwn: { type: "boolean" },
    createdBy: ADDRESS,
    createdByDevice: NOT_MODELLED,
    createdAt: DATE_TIME,
    expiresAt: DATE_TIME,
    maxNumberOfAllocations: { type: "integer", minimum: 1 },
    content: JSON_VALUE,
    truncatedReference: {
      type: "string",
      pattern: "^UkxU[A-Za-z0-9_-]+$",
      description: "The template's id in base64url, without padding.",
    },
  },
};

const RELATIONSHIP_SCHEMA = {
  type: "object",
  required: ["id", "templateId", "template", "peer", "peerIdentity", "status", "auditLog"],
  properties: {
    id: idOf("REL"),
    templateId: idOf("RLT"),
    template: componentRef("RelationshipTemplate"),
    peer: ADDRESS,
    peerIdentity: componentRef("Identity"),
    status: { enum: RELATIONSHIP_STATUSES },
    peerDeletionInfo: {
      type: "object",
      required: ["deletionStatus", "deletionDate"],
      properties: { deletionStatus: { enum: ["ToBeDeleted", "Deleted"] }, deletionDate: DATE_TIME },
    },
    creationContent: JSON_VALUE,
    auditLog: {
      type: "array",
      items: {
        type: "object",
        required: ["createdAt", "createdBy", "reason", "newStatus"],
        properties: {
          createdAt: DATE_TIME,
          createdBy: ADDRESS,
          reason: {
            enum: [
              "Creation",
              "AcceptanceOfCreation",
              "RejectionOfCreation",
              "RevocationOfCreation",
              "Termination",
              "Decomposition",
              "DecompositionDueToIdentityDeletion",
            ],
          },
          oldStatus: { enum: RELATIONSHIP_STATUSES },
          newStatus: { enum: RELATIONSHIP_STATUSES },
        },
      },
    },
  },
};

const MESSAGE_SCHEMA = {
  type: "object",
  required: [
    "id",
    "content",
    "createdBy",
    "createdByDevice",
    "recipients",
    "createdAt",
    "attachments",
    "isOwn",
  ],
  properties: {
    id: idOf("MSG"),
    content: JSON_VALUE,
    createdBy: ADDRESS,
    createdByDevice: NOT_MODELLED,
    recipients: {
      type: "array",
      items: {
        type: "object",
        required: ["address"],
        properties: { address: ADDRESS, relationshipId: idOf("REL") },
      },
    },
    createdAt: DATE_TIME,
    attachments: { type: "array", maxItems: 0, description: "Files are not modelled: always empty." },
    isOwn: { type: "boolean" },
  },
};

const REQUEST_SCHEMA = {
  type: "object",
  required: ["id", "isOwn", "peer", "createdAt", "status", "content"],
  properties: {
    id: idOf("REQ"),
    isOwn: { type: "boolean" },
    peer: ADDRESS,
    createdAt: DATE_TIME,
    status: { enum: LOCAL_REQUEST_STATUSES },
    content: {
      type: "object",
      required: ["@type", "id"],
      properties: { "@type": { const: "Request" }, id: idOf("REQ") },
    },
    response: {
      type: "object",
      required: ["createdAt", "content"],
      properties: {
        createdAt: DATE_TIME,
        content: {
          type: "object",
          required: ["@type", "result", "requestId", "items"],
          properties: {
            "@type": { const: "Response" },
            result: { enum: ["Accepted", "Rejected"] },
            requestId: idOf("REQ"),
            items: { type: "array", maxItems: 0 },
          },
        },
      },
    },
  },
};

/** `{ isSuccess, code?, message? }` of a `can…` check. */
export const CHECK = {
  type: "object",
  required: ["isSuccess"],
  properties: { isSuccess: { type: "boolean" }, code: { type: "string" }, message: { type: "string" } },
};

/** A check of a request, item by item in the Connector; here always as a whole (`items` empty). */
const VALIDATION_RESULT_SCHEMA = {
  ...CHECK,
  required: ["isSuccess", "items"],
  properties: { ...CHECK.properties, items: { type: "array", maxItems: 0 } },
};

/** The Connector's shapes, as components of the OpenAPI document. */
export const COMPONENT_SCHEMAS: Record<ComponentName, Record<string, unknown>> = {
  Identity: IDENTITY_SCHEMA,
  RelationshipTemplate: TEMPLATE_SCHEMA,
  Relationship: RELATIONSHIP_SCHEMA,
  Message: MESSAGE_SCHEMA,
  Request: REQUEST_SCHEMA,
  RequestValidationResult: VALIDATION_RESULT_SCHEMA,
};

export const IDENTITY = componentRef("Identity");
export const TEMPLATE = componentRef("RelationshipTemplate");
export const RELATIONSHIP = componentRef("Relationship");
export const MESSAGE = componentRef("Message");
export const REQUEST = componentRef("Request");
export const VALIDATION_RESULT = componentRef("RequestValidationResult");

export function listOf(item: Record<string, unknown>): Record<string, unknown> {
  return { type: "array", items: item };
}
