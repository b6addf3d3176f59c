import type { Clock } from "../core/clock.js";
import type { RuntimeResult } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import type { IdentityDeletionDecision, IdentityDeletionProcessDTO } from "../identity-deletion/model.js";
import type { MessageDTO } from "../messages/model.js";
import type { PeerDeletionEvent, RelationshipDTO, RelationshipTemplateDTO } from "../relationships/model.js";

/**
 * What the Backbone pushes to a connected runtime: changes another identity (or the Backbone itself) caused.
 * A runtime never receives its own actions here; it applies them from the call's result.
 */
export interface BackboneInbox {
  /** A relationship changed; `peerDeletion` names the event when the change is the peer's deletion (behaviour §5). */
  relationshipChanged(relationship: RelationshipDTO, peerDeletion?: PeerDeletionEvent): Promise<void>;
  messageReceived(message: MessageDTO): Promise<void>;
  /** A deletion process of this identity was started by the Admin UI or changed by expiry. */
  identityDeletionProcessChanged(process: IdentityDeletionProcessDTO): Promise<void>;
}

export interface NewRelationshipTemplate {
  content?: JsonValue;
  expiresAt?: string;
  maxNumberOfAllocations?: number;
}

/** The relationship actions that leave the actor a relationship to look at. */
export type RelationshipStatusChange = "accept" | "reject" | "revoke" | "terminate";

/**
 * The port to the Backbone: the shared service that knows identities, templates and relationships, relays
 * messages and owns identity deletion. `LocalBackbone` implements it in-process; a remote client could too.
 * Every method acts for one identity, named first: an identity can only ever act for itself.
 */
export interface Backbone {
  readonly clock: Clock;
  createIdentity(): Promise<string>;
  /**
   * Lets the Backbone push to the runtime of `address`, first handing it, in order, whatever was pushed while
   * it was not connected. Resolves to the disconnect function.
   */
  connect(address: string, inbox: BackboneInbox): Promise<() => void>;

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

  /** Delivers the message to every recipient's runtime before resolving. */
  sendMessage(
    sender: string,
    recipients: readonly string[],
    content: JsonValue,
  ): Promise<RuntimeResult<MessageDTO>>;

  /** Starts the deletion of `address` by itself: Approved at once (default grace period if none given). */
  initiateIdentityDeletionProcess(
    address: string,
    lengthOfGracePeriodInDays?: number,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>>;
  /** Applies the identity's decision to its active process. */
  decideIdentityDeletionProcess(
    address: string,
    decision: IdentityDeletionDecision,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>>;
  /** Every deletion process of the identity, oldest first. */
  getIdentityDeletionProcesses(address: string): Promise<RuntimeResult<IdentityDeletionProcessDTO[]>>;

  close(): Promise<void>;
}
