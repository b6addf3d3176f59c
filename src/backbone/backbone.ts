import type { Clock } from "../core/clock.js";
import type { IdentityDeletionBackbone, IdentityDeletionInbox } from "../identity-deletion/backbone.js";
import type { MessagesBackbone, MessagesInbox } from "../messages/backbone.js";
import type { RelationshipsBackbone, RelationshipsInbox } from "../relationships/backbone.js";

export type { NewRelationshipTemplate, RelationshipStatusChange } from "../relationships/backbone.js";

/**
 * What the Backbone pushes to a connected runtime: every change of what the runtime keeps a copy of, its own
 * actions included, in the order they happened. A change the runtime caused arrives before its call resolves.
 * @example
 * const inbox: BackboneInbox = {
 *   relationshipChanged: async (relationship) => console.log(relationship.id, relationship.status),
 *   relationshipDecomposed: async (relationshipId) => console.log("decomposed", relationshipId),
 *   messageReceived: async (message) => console.log(message.id),
 *   identityDeletionProcessChanged: async (process) => console.log(process.status),
 * };
 * const disconnect = await backbone.connect(address, inbox);
 */
export interface BackboneInbox extends RelationshipsInbox, MessagesInbox, IdentityDeletionInbox {}

/**
 * The port to the Backbone: the shared service that knows identities, templates and relationships, relays
 * messages and owns identity deletion. Each capability declares its part (`<capability>/backbone.ts`); this is
 * their composition. `LocalBackbone` implements it in-process; a remote client could too. Every method acts
 * for one identity, named first: an identity can only ever act for itself.
 * @example
 * const backbone: Backbone = new LocalBackbone();
 * const runtime = await createRuntime({ backbone });
 */
export interface Backbone extends RelationshipsBackbone, MessagesBackbone, IdentityDeletionBackbone {
  readonly clock: Clock;
  /** Creates a new identity on the Backbone; resolves to its address. */
  createIdentity(): Promise<string>;
  /**
   * Lets the Backbone push to the runtime of `address`, first handing it, in order, whatever was pushed while
   * it was not connected. Resolves to the disconnect function.
   */
  connect(address: string, inbox: BackboneInbox): Promise<() => void>;
  /**
   * Hands the connected runtime of `address` what waits for it now (pushes written by Backbones in other
   * processes are otherwise handed over when their notification arrives), and resolves once that is done.
   */
  handOverWaiting(address: string): Promise<void>;
  /** Refuses further calls (`error.runtime.runtimeClosed`) and waits for those in flight. */
  close(): Promise<void>;
}
