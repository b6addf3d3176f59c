import type { EventEnvelope } from "../core/events.js";
import type { IdentityDeletionEvents } from "../identity-deletion/events.js";
import type { MessageEvents } from "../messages/events.js";
import type { RelationshipEvents } from "../relationships/events.js";
import type { RequestEvents } from "../requests/events.js";

/**
 * Every event a runtime publishes: name → the `data` its listeners get.
 * @interface
 * @example
 * function describe(data: RuntimeEventPayloads["transport.peerDeleted"]): string {
 *   return `${data.peer} has been deleted`;
 * }
 * runtime.events.on("transport.peerDeleted", (event) => console.log(describe(event.data)));
 */
export type RuntimeEventPayloads = RelationshipEvents &
  MessageEvents &
  IdentityDeletionEvents &
  RequestEvents;

/**
 * The name of every event a runtime publishes, such as `"transport.messageReceived"`.
 * @example
 * const names: EventName[] = ["transport.peerToBeDeleted", "transport.peerDeleted"];
 * for (const name of names) runtime.events.on(name, (event) => console.log(event.name, event.data));
 */
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

/**
 * What a listener of `N` receives.
 * @interface
 * @example
 * const log = (event: RuntimeEvent<"transport.relationshipChanged">): void =>
 *   console.log(event.eventTargetAddress, event.data.id, event.data.status);
 * runtime.events.on("transport.relationshipChanged", log);
 */
export type RuntimeEvent<N extends EventName> = EventEnvelope<N, RuntimeEventPayloads[N]>;

/**
 * Subscriptions to the events of one runtime: `runtime.events`.
 * @example
 * const events: RuntimeEvents = runtime.events;
 * const off = events.on("consumption.incomingRequestReceived", (event) => console.log(event.data.peer));
 * off();
 */
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
