import type { JsonValue } from "../core/json.js";

/**
 * Auxiliary metadata about a familiar identity: at most one per (`reference`, `key`) slot.
 * @example
 * const result = await runtime.identityMetadata.getIdentityMetadata({ reference: peer, key: "crm" });
 * if (result.ok) {
 *   const metadata: IdentityMetadataDTO = result.val;
 *   console.log(metadata.id, metadata.value);
 * }
 */
export interface IdentityMetadataDTO {
  /** `"IDM"` followed by 17 letters and digits; it stays when the slot's value is replaced. */
  id: string;
  /** The address the metadata is about: the own address or a relationship's peer. */
  reference: string;
  /** Absent means the "no key" slot, which is not the same as `""`. */
  key?: string;
  /** Any JSON value, exactly as upserted. */
  value: JsonValue;
}

/**
 * The longest `key`, in UTF-16 code units (`key.length`), the same on every storage. A slot names the reference
 * and the key as JSON text (up to 6 bytes a unit, escaped), so every slot fits an index entry in any database.
 * @example
 * const key = `crm:${customerId}`;
 * if (key.length > MAX_IDENTITY_METADATA_KEY_LENGTH) throw new RangeError("key too long");
 */
export const MAX_IDENTITY_METADATA_KEY_LENGTH = 256;

/**
 * The 1 MiB default limit on a value's serialized size; `createRuntime({ maxIdentityMetadataValueBytes })` sets
 * another.
 * @example
 * const maxIdentityMetadataValueBytes = 4 * DEFAULT_MAX_IDENTITY_METADATA_VALUE_BYTES;
 * const runtime = await createRuntime({ backbone, maxIdentityMetadataValueBytes });
 */
export const DEFAULT_MAX_IDENTITY_METADATA_VALUE_BYTES = 1024 * 1024;

/**
 * The slot's unique name. JSON keeps "no key" (null) apart from the empty key ("") and cannot be confused
 * by any character in a key.
 */
export function metadataSlot(reference: string, key: string | undefined): string {
  return JSON.stringify([reference, key ?? null]);
}

export function toMetadataDTO(
  id: string,
  reference: string,
  key: string | undefined,
  value: JsonValue,
): IdentityMetadataDTO {
  return key === undefined ? { id, reference, value } : { id, reference, key, value };
}
