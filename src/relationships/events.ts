import type { RelationshipDTO } from "./model.js";

export interface RelationshipEvents {
  /** A relationship of the own identity was created or changed its status, by either side. */
  "transport.relationshipChanged": RelationshipDTO;
  /** The own identity decomposed a relationship; it and everything about the peer is gone locally. */
  "transport.relationshipDecomposedBySelf": { relationshipId: string };
}
