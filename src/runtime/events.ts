import type { EventEnvelope } from "../core/events.js";
import type { IdentityDeletionEvents } from "../identity-deletion/events.js";
import type { MessageEvents } from "../messages/events.js";
import type { RelationshipEvents } from "../relationships/events.js";
import type { RequestEvents } from "../requests/events.js";

/** Every event a runtime publishes: name → the `data` its listeners get. */
export type RuntimeEventPayloads = RelationshipEvents &
  MessageEvents &
  IdentityDeletionEvents &
  RequestEvents;

export type EventName = Extract<keyof RuntimeEventPayloads, string>;

/** Every event a runtime publishes, by name. */
export const EVENT_NAMES = Object.keys({
  "transport.identityDeletionProcessStatusChanged": true,
  "transport.messageReceived": true,
  "transport.relationshipChanged": true,
  "transport.relationshipDecomposedBySelf": true,
  "transport.peerToBeDeleted": true,
  "transport.peerDeletionCancelled": true,
  "transport.peerDeletionCancelledEvent": true,
  "transport.peerDeleted": true,
  "consumption.incomingRequestReceived": true,
  "consumption.outgoingRequestStatusChanged": true,
  "consumption.incomingRequestStatusChanged": true,
  // A record of every name: the compiler refuses a missing or unknown one.
} satisfies Record<EventName, true>) as readonly EventName[];

/** What a listener of `N` receives. */
export type RuntimeEvent<N extends EventName> = EventEnvelope<N, RuntimeEventPayloads[N]>;

export interface RuntimeEvents {
  /**
   * Calls `listener` on every event `name`, synchronously while the causing call runs, so it has run before
   * that call resolves. A listener that throws or rejects never breaks the call or other listeners.
   * Returns the function that unsubscribes.
   * @example
   * const off = runtime.events.on("transport.messageReceived", (event) => console.log(event.data.content));
   */
  on<N extends EventName>(name: N, listener: (event: RuntimeEvent<N>) => void | Promise<void>): () => void;
}
