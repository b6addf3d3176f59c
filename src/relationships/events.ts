import type { RelationshipDTO } from "./model.js";

/** The events about relationships: name → the `data` their listeners get. */
export interface RelationshipEvents {
  /** A relationship of the own identity was created or changed its status, by either side. */
  "transport.relationshipChanged": RelationshipDTO;
  /** The own identity decomposed a relationship; it and everything about the peer is gone locally. */
  "transport.relationshipDecomposedBySelf": {
    /** The id of the relationship the own identity decomposed. */
    relationshipId: string;
  };
  /** The peer's deletion was approved: `peerDeletionInfo` is ToBeDeleted, the status unchanged. */
  "transport.peerToBeDeleted": RelationshipDTO;
  /** The peer cancelled its deletion: `peerDeletionInfo` is gone. */
  "transport.peerDeletionCancelled": RelationshipDTO;
  /** The same as `transport.peerDeletionCancelled`, under the name the enmeshed documentation gives it. */
  "transport.peerDeletionCancelledEvent": RelationshipDTO;
  /** The peer has been deleted: `peerDeletionInfo` is Deleted and the status DeletionProposed. */
  "transport.peerDeleted": RelationshipDTO;
}
