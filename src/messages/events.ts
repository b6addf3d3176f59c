import type { MessageDTO } from "./model.js";

export interface MessageEvents {
  /** A message from a peer arrived. */
  "transport.messageReceived": MessageDTO;
}
