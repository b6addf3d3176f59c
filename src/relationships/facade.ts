import type { Backbone, RelationshipStatusChange } from "../backbone/backbone.js";
import { bindMethods } from "../core/bind.js";
import { fail, succeed } from "../core/errors.js";
import { cloneJson } from "../core/json.js";
import type { CheckResult, RuntimeResult } from "../core/errors.js";
import type { Publisher } from "../core/events.js";
import type { KeyedLock } from "../core/keyed-lock.js";
import type { RecordCollection } from "../core/record-collection.js";
import type { StorageAdapter, StorageChange } from "../core/storage.js";
import type { UseCaseRunner } from "../core/use-case.js";
import { requestSchema, rules, NO_REQUEST } from "../core/validation.js";
import type { RelationshipEvents } from "./events.js";
import type {
  PeerDeletionEvent,
  RelationshipDTO,
  RelationshipStatus,
  RelationshipTemplateDTO,
} from "./model.js";

export interface CreateOwnRelationshipTemplateRequest {
  /** Any JSON value (checked at run time). */
  content?: unknown;
  /** ISO date-time in the future. */
  expiresAt?: string;
  /** How many relationships may be created from the template; an integer ≥ 1. */
  maxNumberOfAllocations?: number;
}

export interface CreateRelationshipRequest {
  templateId: string;
  /** Any JSON value (checked at run time). */
  creationContent?: unknown;
}

export interface RelationshipIdRequest {
  relationshipId: string;
}

export interface GetRelationshipsQuery {
  peer?: string;
  status?: RelationshipStatus;
}

const RELATIONSHIP_STATUSES: readonly RelationshipStatus[] = [
  "Pending",
  "Active",
  "Rejected",
  "Revoked",
  "Terminated",
  "DeletionProposed",
];

const templateRequest = requestSchema(
  {
    content: rules.optional(rules.json()),
    expiresAt: rules.optional(rules.isoDate()),
    maxNumberOfAllocations: rules.optional(rules.number({ min: 1, integer: true })),
  },
  { mayBeOmitted: true },
);
const creationRequest = requestSchema({
  templateId: rules.id("RLT"),
  creationContent: rules.optional(rules.json()),
});
const relationshipIdRequest = requestSchema({ relationshipId: rules.id("REL") });
const relationshipByIdRequest = requestSchema({ id: rules.id("REL") });
const templateByIdRequest = requestSchema({ id: rules.id("RLT") });
const relationshipQuery = requestSchema(
  {
    peer: rules.optional(rules.address()),
    status: rules.optional(rules.oneOf(RELATIONSHIP_STATUSES)),
  },
  { mayBeOmitted: true },
);

/** What the facade and the Backbone's pushes share: storing a relationship's new state and announcing it. */
export class RelationshipBook {
  constructor(
    readonly relationships: RecordCollection<RelationshipDTO>,
    readonly templates: RecordCollection<RelationshipTemplateDTO>,
    private readonly events: Publisher<RelationshipEvents>,
  ) {}

  /**
   * Stores the relationship's new state and announces it: a change caused by the peer's deletion with its own
   * event (behaviour §5), any other with `transport.relationshipChanged`.
   */
  async apply(relationship: RelationshipDTO, peerDeletion?: PeerDeletionEvent): Promise<RelationshipDTO> {
    await this.relationships.save(relationship);
    // Listeners get their own copy: what they do to it never reaches the caller's result.
    this.events.publish(peerDeletion ?? "transport.relationshipChanged", cloneJson(relationship));
    if (peerDeletion === "transport.peerDeletionCancelled") {
      // The name the enmeshed documentation uses for the same event.
      this.events.publish("transport.peerDeletionCancelledEvent", cloneJson(relationship));
    }
    return relationship;
  }
}

/** Relationship templates and relationships of the own identity. */
export class RelationshipsFacade {
  readonly #runner: UseCaseRunner;
  readonly #ownAddress: string;
  readonly #backbone: Backbone;
  readonly #storage: StorageAdapter;
  readonly #book: RelationshipBook;
  readonly #events: Publisher<RelationshipEvents>;
  /** What else decomposing removes about the peer, in the same unit of work (behaviour §7). */
  readonly #peerCleanup: (peer: string) => Promise<StorageChange[]>;
  /** Shared with IdentityMetadata upserts: one change about a peer at a time. */
  readonly #peerLock: KeyedLock;

  constructor(
    runner: UseCaseRunner,
    ownAddress: string,
    backbone: Backbone,
    storage: StorageAdapter,
    book: RelationshipBook,
    events: Publisher<RelationshipEvents>,
    peerCleanup: (peer: string) => Promise<StorageChange[]>,
    peerLock: KeyedLock,
  ) {
    this.#runner = runner;
    this.#ownAddress = ownAddress;
    this.#backbone = backbone;
    this.#storage = storage;
    this.#book = book;
    this.#events = events;
    this.#peerCleanup = peerCleanup;
    this.#peerLock = peerLock;
    bindMethods(this);
  }

  /**
   * Creates a template on the Backbone from which peers create relationships to the own identity.
   * @example
   * const template = await runtime.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 1 });
   */
  createOwnRelationshipTemplate(
    request?: CreateOwnRelationshipTemplateRequest,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>> {
    return this.#runner.mutate(templateRequest, request, async (template) => {
      if (
        template.expiresAt !== undefined &&
        Date.parse(template.expiresAt) <= this.#backbone.clock.now().getTime()
      ) {
        return fail("error.runtime.validation.invalidPropertyValue", "expiresAt must be in the future");
      }
      // Dates leave the library in one form: ISO 8601 in UTC with milliseconds.
      const normalized =
        template.expiresAt === undefined
          ? template
          : { ...template, expiresAt: new Date(template.expiresAt).toISOString() };
      const created = await this.#backbone.createRelationshipTemplate(this.#ownAddress, normalized);
      if (created.ok) await this.#book.templates.save(created.val);
      return created;
    });
  }

  /**
   * A template by id: the own ones and those of peers, loaded from the Backbone (whatever its creator's state).
   * @example
   * const template = await runtime.relationships.getRelationshipTemplate({ id: "RLT…" });
   */
  getRelationshipTemplate(request: { id: string }): Promise<RuntimeResult<RelationshipTemplateDTO>> {
    return this.#runner.run(templateByIdRequest, request, async ({ id }) => {
      const known = await this.#book.templates.get(id);
      return known !== undefined ? succeed(known) : this.#loadTemplate(id);
    });
  }

  /**
   * Every template stored locally, the own and the loaded ones, oldest first.
   * @example
   * const templates = await runtime.relationships.getRelationshipTemplates();
   */
  getRelationshipTemplates(): Promise<RuntimeResult<RelationshipTemplateDTO[]>> {
    return this.#runner.run(NO_REQUEST, undefined, async () => succeed(await this.#book.templates.list()));
  }

  /**
   * Whether a relationship could be created from the template now, and if not, why (the code
   * `createRelationship` would return). Never acts.
   * @example
   * const check = await runtime.relationships.canCreateRelationship({ templateId });
   * if (check.ok && !check.val.isSuccess) console.log(check.val.code);
   */
  canCreateRelationship(request: CreateRelationshipRequest): Promise<RuntimeResult<CheckResult>> {
    return this.#runner.check(creationRequest, request, ({ templateId }) =>
      this.#backbone.canCreateRelationship(this.#ownAddress, templateId),
    );
  }

  /**
   * Creates a relationship from a peer's template: Pending on both sides until the template's creator accepts.
   * @example
   * const relationship = await runtime.relationships.createRelationship({ templateId });
   */
  createRelationship(request: CreateRelationshipRequest): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#runner.mutate(creationRequest, request, async ({ templateId, creationContent }) => {
      const created = await this.#backbone.createRelationship(this.#ownAddress, templateId, creationContent);
      if (created.err) return created;
      if ((await this.#book.templates.get(templateId)) === undefined) await this.#loadTemplate(templateId);
      return succeed(await this.#book.apply(created.val));
    });
  }

  /**
   * Accepts a Pending relationship created from an own template: Active on both sides.
   * @example
   * await runtime.relationships.acceptRelationship({ relationshipId });
   */
  acceptRelationship(request: RelationshipIdRequest): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#change(request, "accept");
  }

  /**
   * Rejects a Pending relationship created from an own template.
   * @example
   * await runtime.relationships.rejectRelationship({ relationshipId });
   */
  rejectRelationship(request: RelationshipIdRequest): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#change(request, "reject");
  }

  /**
   * Withdraws a Pending relationship the own identity created.
   * @example
   * await runtime.relationships.revokeRelationship({ relationshipId });
   */
  revokeRelationship(request: RelationshipIdRequest): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#change(request, "revoke");
  }

  /**
   * Ends an Active relationship: Terminated on both sides.
   * @example
   * await runtime.relationships.terminateRelationship({ relationshipId });
   */
  terminateRelationship(request: RelationshipIdRequest): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#change(request, "terminate");
  }

  /**
   * Removes a Terminated or DeletionProposed relationship and, in one unit of work, all IdentityMetadata about
   * the peer and the peer's templates. The peer's side becomes DeletionProposed.
   * @example
   * await runtime.relationships.decomposeRelationship({ relationshipId });
   */
  decomposeRelationship(request: RelationshipIdRequest): Promise<RuntimeResult<void>> {
    return this.#runner.mutate(relationshipIdRequest, request, async ({ relationshipId }) => {
      const relationship = await this.#book.relationships.get(relationshipId);
      if (relationship === undefined)
        return fail("error.runtime.recordNotFound", "Relationship", relationshipId);
      return this.#peerLock.run(relationship.peer, async () => {
        const decomposed = await this.#backbone.decomposeRelationship(this.#ownAddress, relationshipId);
        // A Backbone that no longer knows the relationship has nothing left to decompose: finish locally.
        if (decomposed.err && decomposed.val.code !== "error.runtime.recordNotFound") return decomposed;
        await this.#storage.commit([
          this.#book.relationships.delete(relationshipId),
          ...(await this.#peerCleanup(relationship.peer)),
        ]);
        this.#events.publish("transport.relationshipDecomposedBySelf", { relationshipId });
        return succeed(undefined);
      });
    });
  }

  /**
   * A relationship by id.
   * @example
   * const relationship = await runtime.relationships.getRelationship({ id: relationshipId });
   */
  getRelationship(request: { id: string }): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#runner.run(relationshipByIdRequest, request, async ({ id }) => {
      const relationship = await this.#book.relationships.get(id);
      return relationship === undefined
        ? fail("error.runtime.recordNotFound", "Relationship", id)
        : succeed(relationship);
    });
  }

  /**
   * The relationships of the own identity, oldest first, optionally only those to one peer or in one status.
   * @example
   * const active = await runtime.relationships.getRelationships({ status: "Active" });
   */
  getRelationships(query?: GetRelationshipsQuery): Promise<RuntimeResult<RelationshipDTO[]>> {
    return this.#runner.run(relationshipQuery, query, async ({ peer, status }) => {
      const candidates =
        peer === undefined
          ? await this.#book.relationships.list()
          : await this.#book.relationships.listByPeer(peer);
      return succeed(status === undefined ? candidates : candidates.filter((r) => r.status === status));
    });
  }

  #change(
    request: RelationshipIdRequest,
    change: RelationshipStatusChange,
  ): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#runner.mutate(relationshipIdRequest, request, async ({ relationshipId }) => {
      if ((await this.#book.relationships.get(relationshipId)) === undefined) {
        return fail("error.runtime.recordNotFound", "Relationship", relationshipId);
      }
      const changed = await this.#backbone.changeRelationship(this.#ownAddress, relationshipId, change);
      return changed.ok ? succeed(await this.#book.apply(changed.val)) : changed;
    });
  }

  async #loadTemplate(id: string): Promise<RuntimeResult<RelationshipTemplateDTO>> {
    const loaded = await this.#backbone.getRelationshipTemplate(this.#ownAddress, id);
    if (loaded.ok) await this.#book.templates.save(loaded.val);
    return loaded;
  }
}
