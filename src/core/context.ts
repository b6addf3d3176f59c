import type { Clock } from "./clock.js";
import type { Publisher } from "./event-journal.js";
import type { StorageAdapter, StorageChange } from "./storage.js";
import type { UseCaseRunner } from "./use-case.js";

/**
 * What every part of one runtime is built from, made once by `createRuntime`. `B` is the part of the Backbone
 * port a capability talks to, `E` the events it publishes: each capability states what it needs of the whole.
 */
export interface RuntimeContext<B = unknown, E extends object = object> {
  /** The runtime's own identity. */
  readonly address: string;
  /** The one source of time. */
  readonly clock: Clock;
  readonly storage: StorageAdapter;
  readonly backbone: B;
  readonly events: Publisher<E>;
  /** Runs every facade call: validation, the deleted-identity refusal, Results instead of exceptions. */
  readonly useCases: UseCaseRunner;
}

/**
 * What a capability keeps in the runtime's storage. The runtime derives erasing its data and forgetting a
 * decomposed peer from the list of stores, so a new store cannot be forgotten in either.
 */
export interface Store {
  /** The collections holding this identity's records of the capability. */
  readonly collections: readonly string[];
  /** The changes that forget what the capability keeps about `peer`, for the decomposition's unit of work. */
  forgetPeer(peer: string): Promise<StorageChange[]>;
}
