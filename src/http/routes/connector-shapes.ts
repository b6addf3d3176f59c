// The Connector's shapes of this library's DTOs: what the routes answer, and nothing else. Our fields stay as
// they are; the Connector's are added. Pure functions: the routes look up what they need first.
import type { CheckResult } from "../../core/errors.js";
import type { JsonValue } from "../../core/json.js";
import type { MessageDTO } from "../../messages/model.js";
import type { RelationshipDTO, RelationshipTemplateDTO } from "../../relationships/model.js";
import type { LocalRequestDTO, LocalRequestResponse } from "../../requests/model.js";

/**
 * What a string the Connector requires but this library does not model (devices, cryptographic keys) holds:
 * the empty string, never a made-up value a client might take for real.
 */
export const NOT_MODELLED = "";

export interface ConnectorTemplate extends RelationshipTemplateDTO {
  isOwn: boolean;
  createdByDevice: string;
  /** How a peer names the template in `POST /RelationshipTemplates/Peer`. */
  truncatedReference: string;
}

export interface ConnectorIdentity {
  address: string;
  publicKey: string;
}

export interface ConnectorRelationship extends RelationshipDTO {
  template: ConnectorTemplate;
  peerIdentity: ConnectorIdentity;
}

export interface ConnectorMessageRecipient {
  address: string;
  /** The relationship between the message's sender and this recipient, where the own identity has it. */
  relationshipId?: string;
}

export interface ConnectorMessage {
  id: string;
  content: JsonValue;
  createdBy: string;
  createdByDevice: string;
  recipients: ConnectorMessageRecipient[];
  createdAt: string;
  /** Always empty: files are not modelled. */
  attachments: string[];
  isOwn: boolean;
}

export interface ConnectorRequest extends Omit<LocalRequestDTO, "response"> {
  response?: {
    createdAt: string;
    content: {
      "@type": "Response";
      result: LocalRequestResponse["result"];
      requestId: string;
      /** Always empty: the request is decided as a whole. */
      items: never[];
    };
  };
}

export interface ConnectorValidationResult extends CheckResult {
  /** Always empty: requests are checked as a whole, not item by item. */
  items: ConnectorValidationResult[];
}

/** The own identity as the Connector describes it. */
export function connectorIdentity(address: string): ConnectorIdentity {
  return { address, publicKey: NOT_MODELLED };
}

/** The base64url text (no padding) of the id: "RLT…" becomes "UkxU…", as enmeshed's references start. */
export function truncatedReferenceOf(templateId: string): string {
  return Buffer.from(templateId, "utf8").toString("base64url");
}

/** The text a truncated reference encodes, or undefined when it is no canonical base64url. */
export function decodeTruncatedReference(reference: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(reference)) return undefined;
  const text = Buffer.from(reference, "base64url").toString("utf8");
  // Only the one encoding of the text counts: trailing bits or a lost byte would otherwise pass.
  return truncatedReferenceOf(text) === reference ? text : undefined;
}

export function connectorTemplate(template: RelationshipTemplateDTO, ownAddress: string): ConnectorTemplate {
  return {
    ...template,
    isOwn: template.createdBy === ownAddress,
    createdByDevice: NOT_MODELLED,
    truncatedReference: truncatedReferenceOf(template.id),
  };
}

export function connectorRelationship(
  relationship: RelationshipDTO,
  template: ConnectorTemplate,
): ConnectorRelationship {
  return { ...relationship, template, peerIdentity: connectorIdentity(relationship.peer) };
}

/**
 * `relationshipTo(peer)` is the id of the own relationship to that peer, if any: it names the relationship of
 * each recipient of an own message, and the own one on a received message.
 */
export function connectorMessage(
  message: MessageDTO,
  ownAddress: string,
  relationshipTo: (peer: string) => string | undefined,
): ConnectorMessage {
  const isOwn = message.createdBy === ownAddress;
  const recipients = message.recipients.map((address): ConnectorMessageRecipient => {
    const peer = isOwn ? address : address === ownAddress ? message.createdBy : undefined;
    const relationshipId = peer === undefined ? undefined : relationshipTo(peer);
    return relationshipId === undefined ? { address } : { address, relationshipId };
  });
  return {
    id: message.id,
    content: message.content,
    createdBy: message.createdBy,
    createdByDevice: NOT_MODELLED,
    recipients,
    createdAt: message.createdAt,
    attachments: [],
    isOwn,
  };
}

export function connectorRequest(request: LocalRequestDTO): ConnectorRequest {
  const { response, ...rest } = request;
  if (response === undefined) return rest;
  return {
    ...rest,
    response: {
      createdAt: response.createdAt,
      content: { "@type": "Response", result: response.result, requestId: request.id, items: [] },
    },
  };
}

export function connectorValidationResult(check: CheckResult): ConnectorValidationResult {
  return { ...check, items: [] };
}
