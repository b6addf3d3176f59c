import type { RuntimeContext } from "../core/context.js";
import { fail, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { utf8LengthExceeds } from "../core/json.js";
import type { StorageOperations } from "../core/storage.js";
import { requestSchema, rules } from "../core/validation.js";
import type { RelationshipStore } from "../relationships/store.js";
import { MAX_IDENTITY_METADATA_KEY_LENGTH, toMetadataDTO } from "./model.js";
import type { IdentityMetadataDTO } from "./model.js";
import type { IdentityMetadataStore } from "./store.js";

/**
 * What `upsertIdentityMetadata` takes: the slot (`reference`, `key`) and the value to keep there.
 * @example
 * const request: UpsertIdentityMetadataRequest = { reference: peer, key: "crm", value: { customerId: 42 } };
 * const metadata = (await runtime.identityMetadata.upsertIdentityMetadata(request)).unwrap();
 */
export interface UpsertIdentityMetadataRequest {
  /** The address of the identity the metadata is about: the own address or a relationship's peer. */
  reference: string;
  /** At most `MAX_IDENTITY_METADATA_KEY_LENGTH` (256) characters. */
  key?: string;
  /**
   * Any JSON value: string, number, boolean, null, array or object, nested at most `MAX_JSON_DEPTH` (256)
   * levels, at most `maxIdentityMetadataValueBytes` (1 MiB) as JSON (checked at run time).
   */
  value: unknown;
}

/**
 * Names one IdentityMetadata slot, for `getIdentityMetadata` and `deleteIdentityMetadata`.
 * @example
 * const slot: IdentityMetadataSlotRequest = { reference: peer, key: "crm" };
 * const found = await runtime.identityMetadata.getIdentityMetadata(slot);
 * if (found.ok) await runtime.identityMetadata.deleteIdentityMetadata(slot);
 */
export interface IdentityMetadataSlotRequest {
  /** The address of the identity the metadata is about. */
  reference: string;
  /** Absent names the "no key" slot only, never a keyed one; `""` is a slot of its own. */
  key?: string;
}

// Well-formed, so that every key can be named in a query string (`GET /IdentityMetadata?key=…`) too.
const keyRule = rules.optional(
  rules.string({ maxLength: MAX_IDENTITY_METADATA_KEY_LENGTH, wellFormed: true }),
);
const upsertRequest = requestSchema({ reference: rules.address(), key: keyRule, value: rules.json() });
const slotRequest = requestSchema({ reference: rules.address(), key: keyRule });

/** What the IdentityMetadata facade is built from, besides the runtime context. */
export interface IdentityMetadataFacadeParts {
  store: IdentityMetadataStore;
  /** Asked whether a reference is familiar. */
  relationships: RelationshipStore;
  /** The largest value, in bytes of its JSON. */
  maxValueBytes: number;
}

/** Upsert, get and delete IdentityMetadata (behaviour §2). */
export function identityMetadataFacade(context: RuntimeContext, parts: IdentityMetadataFacadeParts) {
  /** Whether the reference is the own address or the peer of a stored relationship, as `tx` sees it. */
  async function isFamiliar(reference: string, tx: StorageOperations): Promise<boolean> {
    return (
      reference === context.address || (await parts.relationships.relationships.in(tx).hasPeer(reference))
    );
  }

  return {
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
      return context.useCases.mutate(upsertRequest, request, async ({ reference, key, value }) => {
        const valueJson = JSON.stringify(value);
        if (utf8LengthExceeds(valueJson, parts.maxValueBytes)) {
          return fail(
            "error.runtime.validation.invalidPropertyValue",
            `value must not be larger than ${parts.maxValueBytes} bytes when serialized as JSON`,
          );
        }
        const write = async (tx: StorageOperations): Promise<RuntimeResult<IdentityMetadataDTO>> => {
          if (!(await isFamiliar(reference, tx))) {
            return fail("error.runtime.identityMetadata.unfamiliarReferencedIdentity", reference);
          }
          const id = await parts.store.upsert(reference, key, valueJson, tx);
          // `value` is validation's copy: the caller's object and the result never alias each other.
          return succeed(toMetadataDTO(id, reference, key, value));
        };
        // About a peer, one transaction about the identity: a decomposition of the peer (which removes the
        // relationship and all metadata about the peer in one such transaction) comes wholly before it or
        // wholly after, from whichever process. About the own address there is nothing to check, and the
        // upsert is atomic by itself.
        return reference === context.address
          ? write(context.storage)
          : context.storage.transaction(write, [context.address]);
      });
    },

    /**
     * The IdentityMetadata of the (`reference`, `key`) slot. Without `key`, only the "no key" slot matches.
     * @example
     * const result = await runtime.identityMetadata.getIdentityMetadata({ reference: peer, key: "crm" });
     * if (result.err) console.log(result.val.code); // "error.runtime.identityMetadata.notFound"
     */
    getIdentityMetadata(request: IdentityMetadataSlotRequest): Promise<RuntimeResult<IdentityMetadataDTO>> {
      return context.useCases.run(slotRequest, request, async ({ reference, key }) => {
        const found = await parts.store.get(reference, key);
        return found === undefined
          ? fail("error.runtime.identityMetadata.notFound", reference, key)
          : succeed(found);
      });
    },

    /**
     * Deletes the IdentityMetadata of exactly the (`reference`, `key`) slot.
     * @example
     * await runtime.identityMetadata.deleteIdentityMetadata({ reference: peer, key: "crm" });
     */
    deleteIdentityMetadata(request: IdentityMetadataSlotRequest): Promise<RuntimeResult<void>> {
      return context.useCases.mutate(slotRequest, request, async ({ reference, key }) =>
        (await parts.store.delete(reference, key))
          ? succeed(undefined)
          : fail("error.runtime.identityMetadata.notFound", reference, key),
      );
    },
  };
}

/**
 * The IdentityMetadata use cases of one runtime: `runtime.identityMetadata`. Its methods work detached too.
 * @useDeclaredType
 * @example
 * const metadata: IdentityMetadataFacade = runtime.identityMetadata;
 * await metadata.upsertIdentityMetadata({ reference: runtime.address, value: { displayName: "Org" } });
 * const own = (await metadata.getIdentityMetadata({ reference: runtime.address })).unwrap();
 */
export type IdentityMetadataFacade = ReturnType<typeof identityMetadataFacade>;
