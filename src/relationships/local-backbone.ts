import { fail, foundOr, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { generateId } from "../core/ids.js";
import { cloneJson } from "../core/json.js";
import type { JsonValue } from "../core/json.js";
import { RecordCollection } from "../core/record-collection.js";
import { SlotTakenError } from "../core/storage.js";
import type { BackbonePart, Delivery, UnitOfWork } from "../core/unit-of-work.js";
import type { DeletionChange, DeletionStanding } from "../identity-deletion/model.js";
import type { NewRelationshipTemplate, RelationshipStatusChange } from "./backbone.js";
import {
  applyPeerDeletion,
  existingRelationshipSlot,
  isVisibleTo,
  otherParty,
  pairSlot,
  projectRelationship,
  transition,
} from "./model.js";
import type {
  BackboneRelationship,
  PeerDeletionEvent,
  RelationshipDTO,
  RelationshipTemplateDTO,
} from "./model.js";

/** What the Backbone pushes to a runtime about a relationship. */
export type RelationshipPush =
  | { kind: "relationshipChanged"; relationship: RelationshipDTO; peerDeletion?: PeerDeletionEvent }
  /** The runtime's own identity decomposed the relationship: it forgets it, and what it keeps about the peer. */
  | { kind: "relationshipDecomposed"; relationshipId: string };

interface TemplateRecord extends RelationshipTemplateDTO {
  /** How many relationships have been created from the template. */
  allocations: number;
}

/**
 * The relationships part of the LocalBackbone: templates and the one record of each relationship, from which
 * each side's view is projected. "One existing relationship per pair" is a storage guarantee: it holds the
 * pair's slot while Pending, Active, Terminated or DeletionProposed.
 */
export function localRelationships(lent: BackbonePart<RelationshipPush, DeletionStanding>) {
  const templates = new RecordCollection<TemplateRecord>(
    lent.storage,
    "backbone/relationshipTemplates",
    (template) => ({
      peers: [template.createdBy],
    }),
  );
  const relationships = new RecordCollection<BackboneRelationship>(
    lent.storage,
    "backbone/relationships",
    (relationship) => {
      const slot = existingRelationshipSlot(relationship);
      const peers = [relationship.from, relationship.to];
      return slot === undefined ? { peers } : { slot, peers };
    },
  );

  /** The template, if `requestor` may create a relationship from it now (behaviour §7 order). */
  async function checkCreation(
    requestor: string,
    templateId: string,
  ): Promise<RuntimeResult<TemplateRecord>> {
    const template = await templates.get(templateId);
    if (template === undefined)
      return fail("error.runtime.recordNotFound", "RelationshipTemplate", templateId);
    const owner = await lent.standing(template.createdBy);
    if (owner.kind === "deleted") {
      return fail("error.transport.relationships.deletedOwnerOfRelationshipTemplate", template.createdBy);
    }
    if (owner.kind === "inDeletion") {
      return fail(
        "error.transport.relationships.activeIdentityDeletionProcessOfOwnerOfRelationshipTemplate",
        template.createdBy,
      );
    }
    if (template.createdBy === requestor) {
      return fail("error.transport.relationships.cannotCreateRelationshipWithYourself", templateId);
    }
    const existing = await relationships.getBySlot(pairSlot(requestor, template.createdBy));
    if (existing !== undefined) {
      return fail(
        "error.transport.relationships.relationshipCurrentlyExists",
        template.createdBy,
        existing.status,
      );
    }
    if (template.expiresAt !== undefined && Date.parse(template.expiresAt) <= lent.clock.now().getTime()) {
      return fail("error.transport.relationships.relationshipTemplateExpired", templateId);
    }
    if (
      template.maxNumberOfAllocations !== undefined &&
      template.allocations >= template.maxNumberOfAllocations
    ) {
      return fail("error.transport.relationships.relationshipTemplateAllocationsExhausted", templateId);
    }
    return succeed(template);
  }

  async function transitionFor(
    actor: string,
    relationshipId: string,
    action: RelationshipStatusChange | "decompose",
  ): Promise<RuntimeResult<BackboneRelationship>> {
    const relationship = await relationships.get(relationshipId);
    if (relationship === undefined || !isVisibleTo(relationship, actor)) {
      return fail("error.runtime.recordNotFound", "Relationship", relationshipId);
    }
    const changed = transition(relationship, actor, action, lent.clock.now());
    if (changed.err) return changed;
    const next = changed.val;
    const goneForBoth = next.decomposedBy.length === 2;
    // The actor's runtime forgets a relationship it decomposed from the push, so that a runtime stopped
    // between the Backbone's change and its own clean-up still cleans up (the push waits for it).
    const decomposed: Delivery<RelationshipPush>[] =
      action === "decompose"
        ? [{ address: actor, push: { kind: "relationshipDecomposed", relationshipId: next.id } }]
        : [];
    await lent.commit({
      changes: [goneForBoth ? relationships.delete(next.id) : relationships.put(next)],
      deliveries: [...(goneForBoth ? [] : deliveries(next)), ...decomposed],
    });
    return changed;
  }

  return {
    /** The template's owner, if the template exists: it never changes. */
    async ownerOf(templateId: string): Promise<string | undefined> {
      return (await templates.get(templateId))?.createdBy;
    },

    /** The two sides of the relationship, if it exists: they never change. */
    async partiesOf(relationshipId: string): Promise<string[]> {
      const relationship = await relationships.get(relationshipId);
      return relationship === undefined ? [] : [relationship.from, relationship.to];
    },

    /** The other sides of `party`'s relationships: whom its deletion changes. */
    async peersOf(party: string): Promise<string[]> {
      return (await relationships.listByPeer(party)).map((relationship) => otherParty(relationship, party));
    },

    async createTemplate(owner: string, template: NewRelationshipTemplate): Promise<RelationshipTemplateDTO> {
      const record: TemplateRecord = {
        id: generateId("RLT"),
        createdBy: owner,
        createdAt: lent.clock.now().toISOString(),
        ...template,
        ...(template.content === undefined ? {} : { content: cloneJson(template.content) }),
        allocations: 0,
      };
      await templates.save(record);
      return toTemplateDTO(record);
    },

    async getTemplate(templateId: string): Promise<RuntimeResult<RelationshipTemplateDTO>> {
      const template = await templates.get(templateId);
      return foundOr(
        template === undefined ? undefined : toTemplateDTO(template),
        "RelationshipTemplate",
        templateId,
      );
    },

    async canCreate(requestor: string, templateId: string): Promise<RuntimeResult<void>> {
      const checked = await checkCreation(requestor, templateId);
      return checked.ok ? succeed(undefined) : checked;
    },

    async create(
      requestor: string,
      templateId: string,
      creationContent?: JsonValue,
    ): Promise<RuntimeResult<RelationshipDTO>> {
      const checked = await checkCreation(requestor, templateId);
      if (checked.err) return checked;
      const template = checked.val;
      const now = lent.clock.now().toISOString();
      let relationship: BackboneRelationship = {
        id: generateId("REL"),
        templateId,
        from: requestor,
        to: template.createdBy,
        status: "Pending",
        auditLog: [{ createdAt: now, createdBy: requestor, reason: "Creation", newStatus: "Pending" }],
        decomposedBy: [],
      };
      if (creationContent !== undefined) relationship.creationContent = cloneJson(creationContent);
      // A requestor already in deletion: the template's creator must know from the start (behaviour §5).
      const requestorStanding = await lent.standing(requestor);
      if (requestorStanding.kind === "inDeletion") {
        const change = { kind: "toBeDeleted", deletionDate: requestorStanding.deletionDate } as const;
        relationship =
          applyPeerDeletion(relationship, requestor, change, lent.clock.now())?.relationship ?? relationship;
      }
      try {
        await lent.commit({
          changes: [
            relationships.put(relationship),
            templates.put({ ...template, allocations: template.allocations + 1 }),
          ],
          deliveries: deliveries(relationship),
        });
      } catch (error) {
        // Another creation for the pair committed first: the storage keeps one existing relationship per pair.
        if (error instanceof SlotTakenError) {
          const winner = await relationships.getBySlot(pairSlot(requestor, template.createdBy));
          return fail(
            "error.transport.relationships.relationshipCurrentlyExists",
            template.createdBy,
            winner?.status ?? "Pending",
          );
        }
        throw error;
      }
      return succeed(projectRelationship(relationship, requestor));
    },

    async change(
      actor: string,
      relationshipId: string,
      change: RelationshipStatusChange,
    ): Promise<RuntimeResult<RelationshipDTO>> {
      const changed = await transitionFor(actor, relationshipId, change);
      return changed.ok ? succeed(projectRelationship(changed.val, actor)) : changed;
    },

    async decompose(actor: string, relationshipId: string): Promise<RuntimeResult<void>> {
      // Idempotent for the side that already decomposed, so a runtime whose local clean-up failed can retry.
      const relationship = await relationships.get(relationshipId);
      if (relationship?.decomposedBy.includes(actor) === true) return succeed(undefined);
      const changed = await transitionFor(actor, relationshipId, "decompose");
      return changed.ok ? succeed(undefined) : changed;
    },

    /** The relationships of `party` that hear of its deletion (behaviour §5), changed, and what their other sides are told. */
    async onDeletion(party: string, change: DeletionChange): Promise<UnitOfWork<RelationshipPush>> {
      const now = lent.clock.now();
      const changed = (await relationships.listByPeer(party))
        .map((relationship) => applyPeerDeletion(relationship, party, change, now))
        .filter((result) => result !== undefined);
      return {
        changes: changed.map(({ relationship }) => relationships.put(relationship)),
        deliveries: changed.flatMap(({ relationship, event }) => {
          const peer = otherParty(relationship, party);
          if (!isVisibleTo(relationship, peer)) return [];
          const push: RelationshipPush = {
            kind: "relationshipChanged",
            relationship: projectRelationship(relationship, peer),
            peerDeletion: event,
          };
          return [{ address: peer, push }];
        }),
      };
    },
  };
}

/** What `localRelationships` makes: the part the LocalBackbone composes. */
export type LocalRelationships = ReturnType<typeof localRelationships>;

/**
 * Tells both sides how the relationship looks now, the actor too: each runtime keeps its copy from the one
 * ordered stream of its pushes, so a change it caused is never overtaken by an older one.
 */
function deliveries(relationship: BackboneRelationship): Delivery<RelationshipPush>[] {
  return [relationship.from, relationship.to]
    .filter((side) => isVisibleTo(relationship, side))
    .map((side) => ({
      address: side,
      push: { kind: "relationshipChanged", relationship: projectRelationship(relationship, side) },
    }));
}

function toTemplateDTO(record: TemplateRecord): RelationshipTemplateDTO {
  const { allocations: _allocations, ...template } = record;
  return template;
}
