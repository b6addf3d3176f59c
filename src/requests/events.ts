import type { LocalRequestDTO } from "./model.js";

/**
 * The events about requests to and from peers, part of `RuntimeEventPayloads`.
 * @inline
 */
export interface RequestEvents {
  /** A peer's request arrived: ManualDecisionRequired. */
  "consumption.incomingRequestReceived": LocalRequestDTO;
  /** An own request changed its status: Open when sent, Completed when the response arrived. */
  "consumption.outgoingRequestStatusChanged": LocalRequestDTO;
  /** A peer's request changed its status: Completed when decided. */
  "consumption.incomingRequestStatusChanged": LocalRequestDTO;
}
