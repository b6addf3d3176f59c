import type { Clock } from "../core/clock.js";
import type { RuntimeResult } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import type { PeerDeletionEvent, RelationshipDTO, RelationshipTemplateDTO } from "./model.js";

export interface NewRelationshipTemplate {
  content?: JsonValue;
  expiresAt?: string;
  maxNumberOfAllocations?: number;
}

/** The relationship actions that leave the actor a relationship to look at. */
export type RelationshipStatusChange = "accept" | "reject" | "revoke" | "terminate";

/** The relationships part of the Backbone port: templates and relationships between identities. */
export interface RelationshipsBackbone {
  /** The Backbone's time, by which it judges a template expired. */
  readonly clock: Clock;
  createRelationshipTemplate(
    owner: string,
    template: NewRelationshipTemplate,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>>;
  getRelationshipTemplate(
    reader: string,
    templateId: string,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>>;
  /** Whether `requestor` could create a relationship from the template now; fails with the reason if not. */
  canCreateRelationship(requestor: string, templateId: string): Promise<RuntimeResult<void>>;
  createRelationship(
    requestor: string,
    templateId: string,
    creationContent?: JsonValue,
  ): Promise<RuntimeResult<RelationshipDTO>>;
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
