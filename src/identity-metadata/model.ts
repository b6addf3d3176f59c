import type { JsonValue } from "../core/json.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageAdapter } from "../core/storage.js";

/** Auxiliary metadata about a familiar identity: at most one per (`reference`, `key`) slot. */
export interface IdentityMetadataDTO {
  id: string;
  reference: string;
  /** Absent means the "no key" slot, which is not the same as `""`. */
  key?: string;
  value: JsonValue;
}

/** The 1 MiB default limit on a value's serialized size. */
export const DEFAULT_MAX_IDENTITY_METADATA_VALUE_BYTES = 1024 * 1024;

/**
 * The slot's unique name. JSON keeps "no key" (null) apart from the empty key ("") and cannot be confused
 * by any character in a key.
 */
export function metadataSlot(reference: string, key: string | undefined): string {
  return JSON.stringify([reference, key ?? null]);
}

export function identityMetadataCollection(
  storage: StorageAdapter,
  scope: string,
): RecordCollection<IdentityMetadataDTO> {
  return new RecordCollection<IdentityMetadataDTO>(storage, `${scope}/identityMetadata`, (metadata) => ({
    slot: metadataSlot(metadata.reference, metadata.key),
    peers: [metadata.reference],
  }));
}
