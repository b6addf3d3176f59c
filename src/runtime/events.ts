import type { RuntimeResult } from "../core/errors.js";
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

/**
 * One event as `runtime.journal` keeps it: what webhooks and event streams deliver.
 * @example
 * const [first] = (await runtime.journal!.read({ after: 0 })).unwrap().events;
 * if (first?.name === "transport.peerDeleted") console.log(first.seq, first.data.peer);
 */
export type JournaledEvent = {
  [N in EventName]: {
    /** Its place in the journal: 1 for the first event, one more for each after it, never reused. */
    seq: number;
    /** The event's name. */
    name: N;
    /** The event's data, as listeners of `runtime.events` get it. */
    data: RuntimeEventPayloads[N];
    /** When the change that raised it committed, as an ISO 8601 instant. */
    createdAt: string;
  };
}[EventName];

/**
 * The durable journal of a runtime's events (`createRuntime({ eventJournal: true })`). Each event is written
 * in the same transaction as the change that raised it, so neither is ever kept without the other, and
 * every process serving the identity reads the same journal in the same order. Webhook targets and event
 * streams are its consumers.
 * @example
 * const journal = runtime.journal!;
 * const after = (await journal.cursor({ consumer: "crm" })).unwrap() ?? 0;
 * const { events, through } = (await journal.read({ after })).unwrap();
 * for (const event of events) await crm.handle(event);
 * await journal.advance({ consumer: "crm", seq: through });
 */
export interface RuntimeEventJournal {
  /**
   * The last seq when this runtime opened, before it took what the Backbone held for it: the events after it
   * happened while this runtime runs (its catch-up included). Where a new consumer starts.
   */
  readonly openedAt: number;
  /**
   * The events after seq `after`, oldest first: at most `limit` (default 100, at most 1,000), and `through`,
   * the seq to read after next. Seqs without an event (pruned, or forgotten with a decomposed peer) are
   * passed over; the reader has caught up when `through` is `head().seq`.
   */
  read(request: { after: number; limit?: number }): Promise<RuntimeResult<JournaledEventPage>>;
  /** The last seq handed out, and the last one pruned. */
  head(): Promise<RuntimeResult<JournalHead>>;
  /**
   * Calls `listener` whenever events may have been appended, by this process or another on the same
   * database. Returns the function that ends the watch.
   */
  watch(listener: () => void): () => void;
  /** Where the consumer's cursor stands, or undefined when it has none. */
  cursor(request: { consumer: string }): Promise<RuntimeResult<number | undefined>>;
  /**
   * Moves the consumer's cursor forward to `seq` (creating it): events it has not passed are kept however
   * many come after them. It never moves back.
   */
  advance(request: { consumer: string; seq: number }): Promise<RuntimeResult<void>>;
  /** Every consumer's cursor. */
  cursors(): Promise<RuntimeResult<JournalCursor[]>>;
  /** Removes the consumer's cursor, so what only it held back can be pruned. */
  dropCursor(request: { consumer: string }): Promise<RuntimeResult<void>>;
}

/**
 * A page of the event journal.
 * @example
 * let after = 0;
 * for (;;) {
 *   const { events, through } = (await runtime.journal!.read({ after })).unwrap();
 *   for (const event of events) console.log(event.seq, event.name);
 *   if (through === after) break; // caught up
 *   after = through;
 * }
 */
export interface JournaledEventPage {
  /** The events found, oldest first. */
  events: JournaledEvent[];
  /** The last seq looked at: pass it as `after` to read on. */
  through: number;
}

/**
 * Where the event journal stands.
 * @example
 * const { seq, prunedThrough } = (await runtime.journal!.head()).unwrap();
 */
export interface JournalHead {
  /** The last seq handed out; 0 before the first event. */
  seq: number;
  /** Every event up to this seq has been pruned; 0 before the first pruning. */
  prunedThrough: number;
}

/**
 * How far one consumer of the event journal has come.
 * @example
 * for (const { consumer, seq } of (await runtime.journal!.cursors()).unwrap()) console.log(consumer, seq);
 */
export interface JournalCursor {
  /** The consumer's name, such as `webhook:crm`. */
  consumer: string;
  /** The last event it has passed. */
  seq: number;
}

/**
 * The addresses an event is about (its relationship's or request's peer, its message's sender): the journal
 * files it under them, so that decomposing a relationship forgets the peer's events with the rest.
 */
export function peersOfEvent(_name: string, data: unknown): string[] {
  if (typeof data !== "object" || data === null) return [];
  const { peer, createdBy } = data as { peer?: unknown; createdBy?: unknown };
  return [...new Set([peer, createdBy].filter((address): address is string => typeof address === "string"))];
}
