import type { RuntimeResult } from "../core/errors.js";
import type { IdentityDeletionDecision, IdentityDeletionProcessDTO } from "./model.js";

/** The identity-deletion part of the Backbone port: the Backbone owns every deletion process. */
export interface IdentityDeletionBackbone {
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
}

/** What the Backbone pushes to a runtime about its own deletion. */
export interface IdentityDeletionInbox {
  /** A deletion process of this identity was started by the Admin UI or changed by expiry. */
  identityDeletionProcessChanged(process: IdentityDeletionProcessDTO): Promise<void>;
}
