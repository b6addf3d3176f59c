import type { MessageDTO } from "./model.js";

/** The events about messages: name → the `data` their listeners get. */
export interface MessageEvents {
  /** A message from a peer arrived. */
  "transport.messageReceived": MessageDTO;
}
