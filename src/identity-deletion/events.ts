import type { IdentityDeletionProcessDTO } from "./model.js";

/**
 * The events about the deletion of the own identity, part of `RuntimeEventPayloads`.
 * @inline
 */
export interface IdentityDeletionEvents {
  /** A deletion process of the own identity was created or changed its status, by whomever. */
  "transport.identityDeletionProcessStatusChanged": IdentityDeletionProcessDTO;
}
