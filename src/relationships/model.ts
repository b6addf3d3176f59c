import type { Result } from "../core/result.js";
import { fail, succeed } from "../core/errors.js";
import type { RuntimeError } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import type { DeletionChange } from "../identity-deletion/model.js";

/**
 * Where a relationship stands. Pending until the template's creator accepts (Active) or rejects (Rejected) it,
 * or its creator revokes it (Revoked); Active until either side terminates it (Terminated); DeletionProposed
 * once the peer decomposed it or was deleted.
 * @example
 * const pending = (await runtime.relationships.getRelationships({ status: "Pending" })).unwrap();
 */
export type RelationshipStatus =
  "Pending" | "Active" | "Rejected" | "Revoked" | "Terminated" | "DeletionProposed";

/** Every relationship status, for validation and documentation. */
export const RELATIONSHIP_STATUSES: readonly RelationshipStatus[] = [
  "Pending",
  "Active",
  "Rejected",
  "Revoked",
  "Terminated",
  "DeletionProposed",
];

/**
 * The action an audit log entry records.
 * @example
 * const relationship = (await runtime.relationships.getRelationship({ id: relationshipId })).unwrap();
 * const peerWasDeleted = relationship.auditLog.some(
 *   (entry) => entry.reason === "DecompositionDueToIdentityDeletion",
 * );
 */
export type RelationshipAuditLogEntryReason =
  | "Creation"
  | "AcceptanceOfCreation"
  | "RejectionOfCreation"
  | "RevocationOfCreation"
  | "Termination"
  | "Decomposition"
  | "DecompositionDueToIdentityDeletion";

/**
 * One status change of a relationship.
 * @example
 * const relationship = (await runtime.relationships.getRelationship({ id: relationshipId })).unwrap();
 * for (const entry of relationship.auditLog) {
 *   console.log(entry.createdAt, entry.createdBy, entry.reason, entry.oldStatus, "→", entry.newStatus);
 * }
 */
export interface RelationshipAuditLogEntryDTO {
  /** When, by the Backbone's clock: ISO 8601 in UTC with milliseconds. */
  createdAt: string;
  /** The address of the identity that acted; for DecompositionDueToIdentityDeletion, the deleted one. */
  createdBy: string;
  /** The action that changed the status. */
  reason: RelationshipAuditLogEntryReason;
  /** The status before; absent on the Creation entry. */
  oldStatus?: RelationshipStatus;
  /** The status after. */
  newStatus: RelationshipStatus;
}

/**
 * What a relationship says about its peer's deletion (behaviour §5).
 * @example
 * const relationship = (await runtime.relationships.getRelationship({ id: relationshipId })).unwrap();
 * const info = relationship.peerDeletionInfo;
 * if (info?.deletionStatus === "ToBeDeleted") console.log(`${relationship.peer} is deleted at ${info.deletionDate}`);
 */
export interface PeerDeletionInfo {
  /** ToBeDeleted while the peer is in deletion, Deleted once its grace period has passed. */
  deletionStatus: "ToBeDeleted" | "Deleted";
  /** The end of the peer's grace period: when it is, or was, deleted. */
  deletionDate: string;
}

/**
 * A relationship as one side sees it: `peer` is the other identity. The id is the same on both sides.
 * @example
 * const relationship = (await runtime.relationships.createRelationship({ templateId })).unwrap();
 * console.log(relationship.id, relationship.peer, relationship.status); // "REL…", the template's creator, "Pending"
 */
export interface RelationshipDTO {
  /** `REL…` */
  id: string;
  /** The template the relationship was created from. */
  templateId: string;
  /** The address of the other identity. */
  peer: string;
  /** The same on both sides. */
  status: RelationshipStatus;
  /** Present while the peer is in deletion and once it is deleted. */
  peerDeletionInfo?: PeerDeletionInfo;
  /** What the relationship's creator sent along with `createRelationship`, if anything. */
  creationContent?: JsonValue;
  /** Every status change, oldest first. */
  auditLog: RelationshipAuditLogEntryDTO[];
}

/**
 * A template from which peers create relationships to its creator.
 * @example
 * const template = (await org.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 1 })).unwrap();
 * // A peer reads it by id, as before creating a relationship from it.
 * const read = (await ada.relationships.getRelationshipTemplate({ id: template.id })).unwrap();
 * console.log(read.createdBy === org.address); // true
 */
export interface RelationshipTemplateDTO {
  /** `RLT…` */
  id: string;
  /** The address of the identity that created it, to which relationships from it lead. */
  createdBy: string;
  /** ISO 8601 in UTC with milliseconds. */
  createdAt: string;
  /** From this date-time on, no relationship can be created from the template. */
  expiresAt?: string;
  /** How many relationships may be created from the template; unlimited if absent. */
  maxNumberOfAllocations?: number;
  /** Any JSON value its creator gave it. */
  content?: JsonValue;
}

/** The Backbone's single record of a relationship, from which each side's view is projected. */
export interface BackboneRelationship {
  id: string;
  templateId: string;
  /** Who created the relationship from the template. */
  from: string;
  /** The template's creator, who accepts or rejects. */
  to: string;
  status: RelationshipStatus;
  creationContent?: JsonValue;
  auditLog: RelationshipAuditLogEntryDTO[];
  /** The sides that have decomposed: they no longer see the relationship. */
  decomposedBy: string[];
  /** What the other side is told about a party in deletion, by the address of that party. */
  deletionInfo?: Record<string, PeerDeletionInfo>;
}

/**
 * The events that announce a change of the peer's deletion on a relationship, instead of
 * `transport.relationshipChanged` (behaviour §5).
 * @example
 * const names: PeerDeletionEvent[] = [
 *   "transport.peerToBeDeleted",
 *   "transport.peerDeletionCancelled",
 *   "transport.peerDeleted",
 * ];
 * for (const name of names) runtime.events.on(name, (event) => console.log(name, event.data.peer));
 */
export type PeerDeletionEvent =
  "transport.peerToBeDeleted" | "transport.peerDeletionCancelled" | "transport.peerDeleted";

const NOTIFIED_STATUSES: readonly RelationshipStatus[] = ["Pending", "Active", "Terminated"];

/** Actions that change a relationship's status for both sides. */
export type RelationshipAction = "accept" | "reject" | "revoke" | "terminate" | "decompose";

export const EXISTING_RELATIONSHIP_STATUSES: readonly RelationshipStatus[] = [
  "Pending",
  "Active",
  "Terminated",
  "DeletionProposed",
];

/**
 * The slot of the one relationship a pair of identities may have at a time (behaviour §7): held while it is
 * Pending, Active, Terminated or DeletionProposed, released once Rejected, Revoked or gone. A lookup by slot
 * finds it however long the pair's history is, and the storage refuses a second one.
 */
export function existingRelationshipSlot(
  relationship: Pick<BackboneRelationship, "from" | "to" | "status">,
): string | undefined {
  return EXISTING_RELATIONSHIP_STATUSES.includes(relationship.status)
    ? pairSlot(relationship.from, relationship.to)
    : undefined;
}

/** The same for both orders of the pair. */
export function pairSlot(one: string, other: string): string {
  return JSON.stringify(one < other ? [one, other] : [other, one]);
}

/**
 * Where a peer stands in its deletion, as the own relationships to it say at `now`: a ToBeDeleted date that
 * has passed means deleted, even before the Backbone's due job has told the relationship so.
 */
export function peerDeletionStanding(
  relationships: readonly RelationshipDTO[],
  now: Date,
): "none" | "inDeletion" | "deleted" {
  let standing: "none" | "inDeletion" = "none";
  for (const { peerDeletionInfo } of relationships) {
    if (peerDeletionInfo === undefined) continue;
    if (peerDeletionInfo.deletionStatus === "Deleted") return "deleted";
    if (now.getTime() > Date.parse(peerDeletionInfo.deletionDate)) return "deleted";
    standing = "inDeletion";
  }
  return standing;
}

export function otherParty(relationship: BackboneRelationship, side: string): string {
  return relationship.from === side ? relationship.to : relationship.from;
}

export function isVisibleTo(relationship: BackboneRelationship, side: string): boolean {
  return (
    (relationship.from === side || relationship.to === side) && !relationship.decomposedBy.includes(side)
  );
}

/** One side's view of a relationship. */
export function projectRelationship(relationship: BackboneRelationship, side: string): RelationshipDTO {
  const peer = otherParty(relationship, side);
  const peerDeletionInfo = relationship.deletionInfo?.[peer];
  const view: RelationshipDTO = {
    id: relationship.id,
    templateId: relationship.templateId,
    peer,
    status: relationship.status,
    auditLog: relationship.auditLog.map((entry) => ({ ...entry })),
  };
  if (peerDeletionInfo !== undefined) view.peerDeletionInfo = { ...peerDeletionInfo };
  if (relationship.creationContent !== undefined) view.creationContent = relationship.creationContent;
  return view;
}

/**
 * The relationship after the deletion of `party` changed, or undefined if this relationship is not told:
 * only Pending, Active and Terminated relationships hear of a deletion; a cancellation reaches those that heard.
 */
export function applyPeerDeletion(
  relationship: BackboneRelationship,
  party: string,
  change: DeletionChange,
  now: Date,
): { relationship: BackboneRelationship; event: PeerDeletionEvent } | undefined {
  const { [party]: known, ...othersInfo } = relationship.deletionInfo ?? {};
  if (change.kind === "cancelled") {
    if (known === undefined) return undefined;
    return {
      relationship: { ...relationship, deletionInfo: othersInfo },
      event: "transport.peerDeletionCancelled",
    };
  }
  if (!NOTIFIED_STATUSES.includes(relationship.status)) return undefined;
  if (change.kind === "toBeDeleted") {
    const info: PeerDeletionInfo = { deletionStatus: "ToBeDeleted", deletionDate: change.deletionDate };
    return {
      relationship: { ...relationship, deletionInfo: { ...othersInfo, [party]: info } },
      event: "transport.peerToBeDeleted",
    };
  }
  const info: PeerDeletionInfo = { deletionStatus: "Deleted", deletionDate: change.deletionDate };
  return {
    relationship: {
      ...relationship,
      status: "DeletionProposed",
      deletionInfo: { ...othersInfo, [party]: info },
      // The deleted identity is gone: it no longer sees the relationship, as if it had decomposed.
      decomposedBy: [...relationship.decomposedBy, party],
      auditLog: [
        ...relationship.auditLog,
        {
          createdAt: now.toISOString(),
          createdBy: party,
          reason: "DecompositionDueToIdentityDeletion",
          oldStatus: relationship.status,
          newStatus: "DeletionProposed",
        },
      ],
    },
    event: "transport.peerDeleted",
  };
}

interface Transition {
  from: readonly RelationshipStatus[];
  to: RelationshipStatus;
  reason: RelationshipAuditLogEntryReason;
  /** Who may act: the template's creator, the relationship's creator, or either. */
  by: "templateCreator" | "relationshipCreator" | "either";
}

const TRANSITIONS: Record<RelationshipAction, Transition> = {
  accept: { from: ["Pending"], to: "Active", reason: "AcceptanceOfCreation", by: "templateCreator" },
  reject: { from: ["Pending"], to: "Rejected", reason: "RejectionOfCreation", by: "templateCreator" },
  revoke: { from: ["Pending"], to: "Revoked", reason: "RevocationOfCreation", by: "relationshipCreator" },
  terminate: { from: ["Active"], to: "Terminated", reason: "Termination", by: "either" },
  decompose: {
    from: ["Terminated", "DeletionProposed"],
    to: "DeletionProposed",
    reason: "Decomposition",
    by: "either",
  },
};

/**
 * The relationship after `actor` performs `action`, or why it may not. A decomposition by the second side
 * returns the relationship with both sides in `decomposedBy`: it is then gone for good.
 */
export function transition(
  relationship: BackboneRelationship,
  actor: string,
  action: RelationshipAction,
  now: Date,
): Result<BackboneRelationship, RuntimeError> {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(relationship.status)) {
    return fail(
      "error.transport.relationships.wrongRelationshipStatus",
      relationship.id,
      relationship.status,
      rule.from,
    );
  }
  if (rule.by === "templateCreator" && actor !== relationship.to) {
    return fail(
      "error.runtime.relationships.cannotAcceptOrRejectRelationshipCreatedByYourself",
      relationship.id,
    );
  }
  if (rule.by === "relationshipCreator" && actor !== relationship.from) {
    return fail("error.runtime.relationships.cannotRevokeRelationshipCreatedByOthers", relationship.id);
  }
  const next: BackboneRelationship = {
    ...relationship,
    decomposedBy: action === "decompose" ? [...relationship.decomposedBy, actor] : relationship.decomposedBy,
  };
  // The second decomposition removes the relationship: there is nobody left to show a status to.
  if (action === "decompose" && relationship.status === "DeletionProposed") return succeed(next);
  next.status = rule.to;
  next.auditLog = [
    ...relationship.auditLog,
    {
      createdAt: now.toISOString(),
      createdBy: actor,
      reason: rule.reason,
      oldStatus: relationship.status,
      newStatus: rule.to,
    },
  ];
  return succeed(next);
}
