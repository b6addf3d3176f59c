import type { RelationshipsBackbone, RelationshipStatusChange } from "./backbone.js";
import type { RuntimeContext } from "../core/context.js";
import { fail, foundOr, succeed } from "../core/errors.js";
import type { CheckResult, RuntimeResult } from "../core/errors.js";
import type { StorageChange } from "../core/storage.js";
import { requestSchema, rules, NO_REQUEST } from "../core/validation.js";
import type { RelationshipEvents } from "./events.js";
import type { RelationshipStore } from "./store.js";
import { RELATIONSHIP_STATUSES } from "./model.js";
import type { RelationshipDTO, RelationshipStatus, RelationshipTemplateDTO } from "./model.js";

/**
 * What `createOwnRelationshipTemplate` creates a template from; every field is optional.
 * @example
 * const request: CreateOwnRelationshipTemplateRequest = {
 *   content: { "@type": "Invitation" },
 *   expiresAt: "2031-01-01T00:00:00.000Z",
 *   maxNumberOfAllocations: 1,
 * };
 * const template = await runtime.relationships.createOwnRelationshipTemplate(request);
 */
export interface CreateOwnRelationshipTemplateRequest {
  /** Any JSON value (checked at run time). */
  content?: unknown;
  /** ISO date-time in the future. */
  expiresAt?: string;
  /** How many relationships may be created from the template; an integer ≥ 1. */
  maxNumberOfAllocations?: number;
}

/**
 * The peer's template to create a relationship from, and what to send along with it.
 * @example
 * const request: CreateRelationshipRequest = { templateId, creationContent: { "@type": "Application" } };
 * const check = (await runtime.relationships.canCreateRelationship(request)).unwrap();
 * if (check.isSuccess) await runtime.relationships.createRelationship(request);
 */
export interface CreateRelationshipRequest {
  /** The template's id (`RLT…`). */
  templateId: string;
  /** Any JSON value (checked at run time). */
  creationContent?: unknown;
}

/**
 * Names the relationship an action applies to.
 * @example
 * const request: RelationshipIdRequest = { relationshipId: relationship.id };
 * await runtime.relationships.acceptRelationship(request);
 */
export interface RelationshipIdRequest {
  /** The relationship's id (`REL…`). */
  relationshipId: string;
}

/**
 * Narrows `getRelationships`; given both, a relationship must match both.
 * @example
 * const query: GetRelationshipsQuery = { peer: ada.address, status: "Active" };
 * const [active] = (await runtime.relationships.getRelationships(query)).unwrap();
 */
export interface GetRelationshipsQuery {
  /** Only the relationships to this address. */
  peer?: string;
  /** Only the relationships in this status. */
  status?: RelationshipStatus;
}

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

/** What the Relationships facade is built from, besides the runtime context. */
export interface RelationshipsFacadeParts {
  store: RelationshipStore;
  /** What every store forgets about a decomposed peer, for the same unit of work (behaviour §7). */
  forgetPeer: (peer: string) => Promise<StorageChange[]>;
}

/** Relationship templates and relationships of the own identity. */
export function relationshipsFacade(
  context: RuntimeContext<RelationshipsBackbone, RelationshipEvents>,
  parts: RelationshipsFacadeParts,
) {
  function change(
    request: RelationshipIdRequest,
    change: RelationshipStatusChange,
  ): Promise<RuntimeResult<RelationshipDTO>> {
    return context.useCases.mutate(relationshipIdRequest, request, async ({ relationshipId }) => {
      if ((await parts.store.relationships.get(relationshipId)) === undefined) {
        return fail("error.runtime.recordNotFound", "Relationship", relationshipId);
      }
      // The runtime's copy is kept from the Backbone's push, which arrives before this call resolves.
      return context.backbone.changeRelationship(context.address, relationshipId, change);
    });
  }

  /**
   * A template this runtime does not keep, from the Backbone. An own template is always kept from its creation
   * on, so one that is not kept was removed (a decomposed single-use template): it is not brought back.
   */
  async function loadTemplate(id: string): Promise<RuntimeResult<RelationshipTemplateDTO>> {
    const loaded = await context.backbone.getRelationshipTemplate(context.address, id);
    if (loaded.err) return loaded;
    if (loaded.val.createdBy === context.address)
      return fail("error.runtime.recordNotFound", "RelationshipTemplate", id);
    await parts.store.templates.save(loaded.val);
    return loaded;
  }

  return {
    /**
     * Creates a template on the Backbone from which peers create relationships to the own identity.
     * @example
     * const template = await runtime.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 1 });
     */
    createOwnRelationshipTemplate(
      request?: CreateOwnRelationshipTemplateRequest,
    ): Promise<RuntimeResult<RelationshipTemplateDTO>> {
      return context.useCases.mutate(templateRequest, request, async (template) => {
        if (
          template.expiresAt !== undefined &&
          // The Backbone's clock: it is the Backbone that will judge the template expired.
          Date.parse(template.expiresAt) <= context.backbone.clock.now().getTime()
        ) {
          return fail("error.runtime.validation.invalidPropertyValue", "expiresAt must be in the future");
        }
        // Dates leave the library in one form: ISO 8601 in UTC with milliseconds.
        const normalized =
          template.expiresAt === undefined
            ? template
            : { ...template, expiresAt: new Date(template.expiresAt).toISOString() };
        const created = await context.backbone.createRelationshipTemplate(context.address, normalized);
        if (created.ok) await parts.store.templates.save(created.val);
        return created;
      });
    },

    /**
     * A template by id: the own ones and those of peers, loaded from the Backbone (whatever its creator's state).
     * @example
     * const template = await runtime.relationships.getRelationshipTemplate({ id: "RLT…" });
     */
    getRelationshipTemplate(request: { id: string }): Promise<RuntimeResult<RelationshipTemplateDTO>> {
      return context.useCases.run(templateByIdRequest, request, async ({ id }) => {
        const known = await parts.store.templates.get(id);
        return known !== undefined ? succeed(known) : loadTemplate(id);
      });
    },

    /**
     * Every template stored locally, the own and the loaded ones, oldest first.
     * @example
     * const templates = await runtime.relationships.getRelationshipTemplates();
     */
    getRelationshipTemplates(): Promise<RuntimeResult<RelationshipTemplateDTO[]>> {
      return context.useCases.run(NO_REQUEST, undefined, async () =>
        succeed(await parts.store.templates.list()),
      );
    },

    /**
     * Whether a relationship could be created from the template now, and if not, why (the code
     * `createRelationship` would return). Never acts.
     * @example
     * const check = await runtime.relationships.canCreateRelationship({ templateId });
     * if (check.ok && !check.val.isSuccess) console.log(check.val.code);
     */
    canCreateRelationship(request: CreateRelationshipRequest): Promise<RuntimeResult<CheckResult>> {
      return context.useCases.check(creationRequest, request, ({ templateId }) =>
        context.backbone.canCreateRelationship(context.address, templateId),
      );
    },

    /**
     * Creates a relationship from a peer's template: Pending on both sides until the template's creator accepts.
     * @example
     * const relationship = await runtime.relationships.createRelationship({ templateId });
     */
    createRelationship(request: CreateRelationshipRequest): Promise<RuntimeResult<RelationshipDTO>> {
      return context.useCases.mutate(creationRequest, request, async ({ templateId, creationContent }) => {
        const created = await context.backbone.createRelationship(
          context.address,
          templateId,
          creationContent,
        );
        if (created.err) return created;
        if ((await parts.store.templates.get(templateId)) === undefined) await loadTemplate(templateId);
        return created;
      });
    },

    /**
     * Accepts a Pending relationship created from an own template: Active on both sides.
     * @example
     * await runtime.relationships.acceptRelationship({ relationshipId });
     */
    acceptRelationship(request: RelationshipIdRequest): Promise<RuntimeResult<RelationshipDTO>> {
      return change(request, "accept");
    },

    /**
     * Rejects a Pending relationship created from an own template.
     * @example
     * await runtime.relationships.rejectRelationship({ relationshipId });
     */
    rejectRelationship(request: RelationshipIdRequest): Promise<RuntimeResult<RelationshipDTO>> {
      return change(request, "reject");
    },

    /**
     * Withdraws a Pending relationship the own identity created.
     * @example
     * await runtime.relationships.revokeRelationship({ relationshipId });
     */
    revokeRelationship(request: RelationshipIdRequest): Promise<RuntimeResult<RelationshipDTO>> {
      return change(request, "revoke");
    },

    /**
     * Ends an Active relationship: Terminated on both sides.
     * @example
     * await runtime.relationships.terminateRelationship({ relationshipId });
     */
    terminateRelationship(request: RelationshipIdRequest): Promise<RuntimeResult<RelationshipDTO>> {
      return change(request, "terminate");
    },

    /**
     * Removes a Terminated or DeletionProposed relationship and, in one unit of work, everything kept about the
     * peer (IdentityMetadata, its templates, requests, messages) and the own template the relationship came
     * from when that was single-use. The peer's side becomes DeletionProposed.
     * @example
     * await runtime.relationships.decomposeRelationship({ relationshipId });
     */
    decomposeRelationship(request: RelationshipIdRequest): Promise<RuntimeResult<void>> {
      return context.useCases.mutate(relationshipIdRequest, request, async ({ relationshipId }) => {
        if ((await parts.store.relationships.get(relationshipId)) === undefined)
          return fail("error.runtime.recordNotFound", "Relationship", relationshipId);
        const decomposed = await context.backbone.decomposeRelationship(context.address, relationshipId);
        // A Backbone that no longer knows the relationship has nothing left to decompose: finish locally.
        if (decomposed.err && decomposed.val.code !== "error.runtime.recordNotFound") return decomposed;
        // The Backbone's push has done it before the call resolved; what is still kept (no push came: the
        // Backbone had decomposed it before) goes now.
        await forgetDecomposed(context, parts, relationshipId);
        return succeed(undefined);
      });
    },

    /**
     * A relationship by id.
     * @example
     * const relationship = await runtime.relationships.getRelationship({ id: relationshipId });
     */
    getRelationship(request: { id: string }): Promise<RuntimeResult<RelationshipDTO>> {
      return context.useCases.run(relationshipByIdRequest, request, async ({ id }) =>
        foundOr(await parts.store.relationships.get(id), "Relationship", id),
      );
    },

    /**
     * The relationships of the own identity, oldest first, optionally only those to one peer or in one status.
     * @example
     * const active = await runtime.relationships.getRelationships({ status: "Active" });
     */
    getRelationships(query?: GetRelationshipsQuery): Promise<RuntimeResult<RelationshipDTO[]>> {
      return context.useCases.run(relationshipQuery, query, async ({ peer, status }) => {
        const candidates =
          peer === undefined
            ? await parts.store.relationships.list()
            : await parts.store.relationships.listByPeer(peer);
        return succeed(status === undefined ? candidates : candidates.filter((r) => r.status === status));
      });
    },
  };
}

/**
 * Forgets a relationship the own identity decomposed, and everything kept about the peer, in one transaction:
 * an upsert about the peer (a transaction that checks the peer is familiar) comes wholly before it, and is
 * removed with the rest, or wholly after, and is refused. Announces it once, whoever calls it how often.
 */
export async function forgetDecomposed(
  context: RuntimeContext<unknown, RelationshipEvents>,
  parts: RelationshipsFacadeParts,
  relationshipId: string,
): Promise<void> {
  const relationship = await parts.store.relationships.get(relationshipId);
  if (relationship === undefined) return;
  const forget = [
    ...(await parts.store.forgetRelationship(relationship)),
    ...(await parts.forgetPeer(relationship.peer)),
  ];
  const announce = await context.storage.transaction(
    async (tx) => {
      if ((await parts.store.relationships.in(tx).get(relationshipId)) === undefined) return undefined;
      return context.events.commit(tx, forget, [
        { name: "transport.relationshipDecomposedBySelf", data: { relationshipId } },
      ]);
    },
    [context.address],
  );
  announce?.();
}

/**
 * The Relationships use cases of one runtime: `runtime.relationships`. Its methods work detached too.
 * @example
 * const { createRelationship, getRelationships }: RelationshipsFacade = runtime.relationships;
 * await createRelationship({ templateId });
 * const pending = (await getRelationships({ status: "Pending" })).unwrap();
 * @useDeclaredType
 */
export type RelationshipsFacade = ReturnType<typeof relationshipsFacade>;
