import type { Clock } from "./clock.js";
import type { StorageChange, StorageOperations } from "./storage.js";

/** A push for the runtime of `address`; `P` is what is pushed. */
export interface Delivery<P> {
  readonly address: string;
  readonly push: P;
}

/**
 * What one change on the Backbone writes, and what it tells runtimes once written. It is written whole or not
 * at all, and nothing is told that was not written.
 */
export interface UnitOfWork<P> {
  readonly changes: readonly StorageChange[];
  readonly deliveries: readonly Delivery<P>[];
}

/** Writes a unit of work, then tells the runtimes: the LocalBackbone's push delivery, lent to its parts. */
export type CommitAndDeliver<P> = (work: UnitOfWork<P>) => Promise<void>;

/** One unit of work made of several. */
export function combined<P>(parts: readonly UnitOfWork<P>[]): UnitOfWork<P> {
  return {
    changes: parts.flatMap((part) => part.changes),
    deliveries: parts.flatMap((part) => part.deliveries),
  };
}

/**
 * What the LocalBackbone lends the part of a capability: the storage and the clock, where an identity stands
 * in its deletion (`S`), and the commit that writes a unit of work and tells the runtimes. (The deletion part
 * itself, which decides where identities stand, is given its periods and the consequences instead.)
 */
export interface BackbonePart<P, S> {
  readonly storage: StorageOperations;
  readonly clock: Clock;
  readonly standing: (address: string) => Promise<S>;
  readonly commit: CommitAndDeliver<P>;
}
