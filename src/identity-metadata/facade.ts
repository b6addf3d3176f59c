import { fail, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { generateId } from "../core/ids.js";
import type { JsonValue } from "../core/json.js";
import type { RecordCollection } from "../core/record-collection.js";
import type { UseCaseRunner } from "../core/use-case.js";
import { requestSchema, rules } from "../core/validation.js";
import type { RelationshipDTO } from "../relationships/model.js";
import { metadataSlot } from "./model.js";
import type { IdentityMetadataDTO } from "./model.js";

export interface UpsertIdentityMetadataRequest {
  /** The address of the identity the metadata is about: the own address or a relationship's peer. */
  reference: string;
  key?: string;
  value: JsonValue;
}

export interface IdentityMetadataSlotRequest {
  reference: string;
  key?: string;
}

const slotRequest = requestSchema({ reference: rules.address(), key: rules.optional(rules.string()) });

/** Upsert, get and delete IdentityMetadata (behaviour §2). */
export class IdentityMetadataFacade {
  private readonly upsertRequest;

  constructor(
    private readonly runner: UseCaseRunner,
    private readonly ownAddress: string,
    private readonly metadata: RecordCollection<IdentityMetadataDTO>,
    private readonly relationships: RecordCollection<RelationshipDTO>,
    maxValueBytes: number,
  ) {
    this.upsertRequest = requestSchema({
      reference: rules.address(),
      key: rules.optional(rules.string()),
      value: rules.json({ maxBytes: maxValueBytes }),
    });
  }

  /**
   * Creates the IdentityMetadata of the (`reference`, `key`) slot, or replaces the `value` of the one there
   * (same id). The reference must be familiar: the own address or the peer of any stored relationship.
   * @example
   * const result = await runtime.identityMetadata.upsertIdentityMetadata({ reference: peer, key: "crm", value: { id: 42 } });
   * if (result.ok) console.log(result.val.id);
   */
  upsertIdentityMetadata(
    request: UpsertIdentityMetadataRequest,
  ): Promise<RuntimeResult<IdentityMetadataDTO>> {
    return this.runner.mutate(this.upsertRequest, request, async ({ reference, key, value }) => {
      if (!(await this.isFamiliar(reference))) {
        return fail("error.runtime.identityMetadata.unfamiliarReferencedIdentity", reference);
      }
      const candidate: IdentityMetadataDTO =
        key === undefined
          ? { id: generateId("IDM"), reference, value }
          : { id: generateId("IDM"), reference, key, value };
      return succeed(await this.metadata.upsertBySlot(candidate));
    });
  }

  /**
   * The IdentityMetadata of the (`reference`, `key`) slot. Without `key`, only the "no key" slot matches.
   * @example
   * const result = await runtime.identityMetadata.getIdentityMetadata({ reference: peer, key: "crm" });
   * if (result.err) console.log(result.val.code); // "error.runtime.identityMetadata.notFound"
   */
  getIdentityMetadata(request: IdentityMetadataSlotRequest): Promise<RuntimeResult<IdentityMetadataDTO>> {
    return this.runner.run(slotRequest, request, async ({ reference, key }) => {
      const found = await this.metadata.getBySlot(metadataSlot(reference, key));
      return found === undefined
        ? fail("error.runtime.identityMetadata.notFound", reference, key)
        : succeed(found);
    });
  }

  /**
   * Deletes the IdentityMetadata of exactly the (`reference`, `key`) slot.
   * @example
   * await runtime.identityMetadata.deleteIdentityMetadata({ reference: peer, key: "crm" });
   */
  deleteIdentityMetadata(request: IdentityMetadataSlotRequest): Promise<RuntimeResult<void>> {
    return this.runner.mutate(slotRequest, request, async ({ reference, key }) => {
      const deleted = await this.metadata.deleteSlot(metadataSlot(reference, key));
      return deleted ? succeed(undefined) : fail("error.runtime.identityMetadata.notFound", reference, key);
    });
  }

  private async isFamiliar(reference: string): Promise<boolean> {
    return reference === this.ownAddress || (await this.relationships.listByPeer(reference)).length > 0;
  }
}
