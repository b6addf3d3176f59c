import type { Clock } from "../core/clock.js";
import type { RuntimeResult } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import type { PeerDeletionEvent, RelationshipDTO, RelationshipTemplateDTO } from "./model.js";

/**
 * A template as the runtime asks the Backbone to create it: checked, with `expiresAt` in UTC.
 * @example
 * const backbone = new LocalBackbone();
 * const owner = await backbone.createIdentity();
 * const template: NewRelationshipTemplate = { content: { "@type": "Invitation" }, maxNumberOfAllocations: 1 };
 * const created = await backbone.createRelationshipTemplate(owner, template);
 */
export interface NewRelationshipTemplate {
  /** Any JSON value, for the peers who read the template. */
  content?: JsonValue;
  /** ISO 8601 date-time from which no relationship can be created from the template. */
  expiresAt?: string;
  /** How many relationships may be created from the template; unlimited if absent. */
  maxNumberOfAllocations?: number;
}

/**
 * The relationship actions that leave the actor a relationship to look at.
 * @example
 * const change: RelationshipStatusChange = "accept";
 * const accepted = await backbone.changeRelationship(owner, relationshipId, change);
 */
export type RelationshipStatusChange = "accept" | "reject" | "revoke" | "terminate";

/** The relationships part of the Backbone port: templates and relationships between identities. */
export interface RelationshipsBackbone {
  /** The Backbone's time, by which it judges a template expired. */
  readonly clock: Clock;
  /** Creates a template whose creator is `owner`. */
  createRelationshipTemplate(
    owner: string,
    template: NewRelationshipTemplate,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>>;
  /** A template by id, for any reader, whatever its creator's state. */
  getRelationshipTemplate(
    reader: string,
    templateId: string,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>>;
  /** Whether `requestor` could create a relationship from the template now; fails with the reason if not. */
  canCreateRelationship(requestor: string, templateId: string): Promise<RuntimeResult<void>>;
  /**
   * Creates a Pending relationship from `requestor` to the template's creator, or fails with the reason
   * `canCreateRelationship` gives.
   */
  createRelationship(
    requestor: string,
    templateId: string,
    creationContent?: JsonValue,
  ): Promise<RuntimeResult<RelationshipDTO>>;
  /** Applies `change` by `actor` to both sides of the relationship; resolves to the actor's view of it. */
  changeRelationship(
    actor: string,
    relationshipId: string,
    change: RelationshipStatusChange,
  ): Promise<RuntimeResult<RelationshipDTO>>;
  /** Removes the relationship for `actor`; the peer's side becomes DeletionProposed. */
  decomposeRelationship(actor: string, relationshipId: string): Promise<RuntimeResult<void>>;
}

/** What the Backbone pushes to a runtime about its relationships. */
export interface RelationshipsInbox {
  /** A relationship changed; `peerDeletion` names the event when the change is the peer's deletion (behaviour §5). */
  relationshipChanged(relationship: RelationshipDTO, peerDeletion?: PeerDeletionEvent): Promise<void>;
  /**
   * The own identity decomposed the relationship (through this runtime or another on the same storage): the
   * runtime forgets it and everything it keeps about the peer. Idempotent.
   */
  relationshipDecomposed(relationshipId: string): Promise<void>;
}
