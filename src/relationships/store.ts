import { isDeepStrictEqual } from "node:util";
import type { RuntimeContext, Store } from "../core/context.js";
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
  }

  get collections(): readonly string[] {
    return [this.relationships.name, this.templates.name];
  }

  /**
   * Stores the relationship's new state and announces it: a change caused by the peer's deletion with its own
   * event (behaviour §5), any other with `transport.relationshipChanged`. A state already kept (the same push
   * handed over twice) changes nothing and announces nothing.
   */
  async apply(relationship: RelationshipDTO, peerDeletion?: PeerDeletionEvent): Promise<RelationshipDTO> {
    if (isDeepStrictEqual(await this.relationships.get(relationship.id), relationship)) return relationship;
    await this.relationships.save(relationship);
    const { events } = this.#context;
    // Listeners get their own copy: what they do to it never reaches the caller's result.
    events.publish(peerDeletion ?? "transport.relationshipChanged", cloneJson(relationship));
    if (peerDeletion === "transport.peerDeletionCancelled") {
      // The name the enmeshed documentation uses for the same event.
      events.publish("transport.peerDeletionCancelledEvent", cloneJson(relationship));
    }
    return relationship;
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
      ...(singleUse ? [this.templates.delete(template.id)] : []),
    ];
  }

  /** The peer's templates go with it. */
  forgetPeer(peer: string): Promise<StorageChange[]> {
    return Promise.resolve([this.templates.deleteByPeer(peer)]);
  }
}
