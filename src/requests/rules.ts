import type { Result } from "../core/result.js";
import { fail, succeed } from "../core/errors.js";
import type { RuntimeError } from "../core/errors.js";
import { peerDeletionStanding } from "../relationships/model.js";
import type { RelationshipDTO, RelationshipStatus } from "../relationships/model.js";

/** Creating a request needs a Pending or Active relationship; deciding one an Active relationship. */
export const CREATE_STATUSES: readonly RelationshipStatus[] = ["Pending", "Active"];
export const DECIDE_STATUSES: readonly RelationshipStatus[] = ["Active"];

/**
 * Whether requests may be exchanged with `peer` now (behaviour §7, in order): not with a deleted peer, not
 * with one in deletion, and only over a relationship in one of the `allowed` statuses.
 */
export function checkRequestPeer(
  peer: string,
  relationships: readonly RelationshipDTO[],
  allowed: readonly RelationshipStatus[],
  now: Date,
): Result<void, RuntimeError> {
  const standing = peerDeletionStanding(relationships, now);
  if (standing === "deleted") return fail("error.consumption.requests.peerIsDeleted", peer);
  if (standing === "inDeletion") return fail("error.consumption.requests.peerIsInDeletion", peer);
  const latest = relationships.at(-1);
  if (latest === undefined) return fail("error.consumption.requests.missingRelationship", peer);
  if (!relationships.some((r) => allowed.includes(r.status))) {
    return fail("error.consumption.requests.wrongRelationshipStatus", peer, latest.status, allowed);
  }
  return succeed(undefined);
}
