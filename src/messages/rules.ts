import type { Result } from "../core/result.js";
import { fail, succeed } from "../core/errors.js";
import type { RuntimeError } from "../core/errors.js";
import { peerDeletionStanding } from "../relationships/model.js";
import type { RelationshipDTO } from "../relationships/model.js";

/** What the sender's relationships say about one recipient. */
interface RecipientStanding {
  address: string;
  relationships: readonly RelationshipDTO[];
}

const isActive = (r: RelationshipDTO) => r.status === "Active";
const isActiveOrTerminated = (r: RelationshipDTO) => r.status === "Active" || r.status === "Terminated";

/**
 * Whether a message may go to these recipients (behaviour §7): four rules in order, the first that any
 * recipient breaks wins, and its error lists every recipient that breaks it.
 */
export function checkRecipients(
  recipients: readonly RecipientStanding[],
  notification: boolean,
  now: Date,
): Result<void, RuntimeError> {
  const breaking = (breaks: (relationships: readonly RelationshipDTO[]) => boolean) =>
    recipients.filter((recipient) => breaks(recipient.relationships)).map((recipient) => recipient.address);

  const deleted = breaking((relationships) => peerDeletionStanding(relationships, now) === "deleted");
  if (deleted.length > 0) return fail("error.transport.messages.peerIsDeleted", deleted);
  if (!notification) {
    const inDeletion = breaking((relationships) => peerDeletionStanding(relationships, now) === "inDeletion");
    if (inDeletion.length > 0) return fail("error.runtime.messages.peerIsInDeletion", inDeletion);
    const notActive = breaking((relationships) => !relationships.some(isActive));
    if (notActive.length > 0) return fail("error.runtime.messages.hasNoActiveRelationship", notActive);
  }
  const unreachable = breaking((relationships) => !relationships.some(isActiveOrTerminated));
  if (unreachable.length > 0)
    return fail("error.transport.messages.hasNeitherActiveNorTerminatedRelationship", unreachable);
  return succeed(undefined);
}
