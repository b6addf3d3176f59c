import { isDeepStrictEqual } from "node:util";
import type { RuntimeContext, Store } from "../core/context.js";
import type { RaisedEvent } from "../core/event-journal.js";
import { cloneJson } from "../core/json.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageChange } from "../core/storage.js";
import type { RelationshipEvents } from "./events.js";
import type { PeerDeletionEvent, RelationshipDTO, RelationshipTemplateDTO } from "./model.js";

/**
 * The own identity's relationships and the templates it knows (its own and those it loaded), and their
 * announcement: what the facade and the Backbone's pushes share.
 */
export class RelationshipStore implements Store {
  readonly relationships: RecordCollection<RelationshipDTO>;
  readonly templates: RecordCollection<RelationshipTemplateDTO>;
  /** The relationships the own identity decomposed: a push about one that comes late never brings it back. */
  readonly #forgotten: RecordCollection<{ id: string }>;
  readonly #context: RuntimeContext<unknown, RelationshipEvents>;

  constructor(context: RuntimeContext<unknown, RelationshipEvents>) {
    this.#context = context;
    const { storage, address } = context;
    this.relationships = new RecordCollection<RelationshipDTO>(
      storage,
      `${address}/relationships`,
      (relationship) => ({ peers: [relationship.peer] }),
    );
    this.templates = new RecordCollection<RelationshipTemplateDTO>(
      storage,
      `${address}/relationshipTemplates`,
      (template) => ({ peers: [template.createdBy] }),
    );
    this.#forgotten = new RecordCollection(storage, `${address}/forgottenRelationships`);
  }

  get collections(): readonly string[] {
    return [this.relationships.name, this.templates.name, this.#forgotten.name];
  }

  /**
   * Stores the relationship's new state and announces it: a change caused by the peer's deletion with its own
   * event (behaviour §5), any other with `transport.relationshipChanged`. A state already kept (the same push
   * handed over twice, by this process or another serving the identity), an older one (fewer audit-log
   * entries) and one of a relationship the identity decomposed change nothing and announce nothing: the check
   * and the write are one transaction about the identity.
   */
  async apply(relationship: RelationshipDTO, peerDeletion?: PeerDeletionEvent): Promise<void> {
    const { storage, address, events } = this.#context;
    const announce = await storage.transaction(
      async (tx) => {
        const kept = await this.relationships.in(tx).get(relationship.id);
        const stale =
          kept === undefined
            ? (await this.#forgotten.in(tx).get(relationship.id)) !== undefined
            : isDeepStrictEqual(kept, relationship) || relationship.auditLog.length < kept.auditLog.length;
        if (stale) return undefined;
        // Listeners get their own copy: what they do to it never reaches the caller's result.
        const raised: RaisedEvent<RelationshipEvents>[] = [
          { name: peerDeletion ?? "transport.relationshipChanged", data: cloneJson(relationship) },
        ];
        if (peerDeletion === "transport.peerDeletionCancelled") {
          // The name the enmeshed documentation uses for the same event.
          raised.push({ name: "transport.peerDeletionCancelledEvent", data: cloneJson(relationship) });
        }
        return events.commit(tx, [this.relationships.put(relationship)], raised);
      },
      [address],
    );
    announce?.();
  }

  /**
   * The changes that remove a decomposed relationship, and the own template it came from when that was
   * single-use (`maxNumberOfAllocations: 1`), as the original runtime does (behaviour §7).
   */
  async forgetRelationship(relationship: RelationshipDTO): Promise<StorageChange[]> {
    const template = await this.templates.get(relationship.templateId);
    const singleUse = template?.createdBy === this.#context.address && template.maxNumberOfAllocations === 1;
    return [
      this.relationships.delete(relationship.id),
      this.#forgotten.put({ id: relationship.id }),
      ...(singleUse ? [this.templates.delete(template.id)] : []),
    ];
  }

  /** The peer's templates go with it. */
  forgetPeer(peer: string): Promise<StorageChange[]> {
    return Promise.resolve([this.templates.deleteByPeer(peer)]);
  }
}
