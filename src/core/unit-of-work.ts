import type { StorageChange } from "./storage.js";

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
