import type { IdentityDeletionProcessDTO } from "./model.js";

export interface IdentityDeletionEvents {
  /** A deletion process of the own identity was created or changed its status, by whomever. */
  "transport.identityDeletionProcessStatusChanged": IdentityDeletionProcessDTO;
}
