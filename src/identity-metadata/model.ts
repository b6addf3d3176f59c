import { generateId } from "../core/ids.js";
import type { JsonValue } from "../core/json.js";
import type { StorageAdapter, StorageChange } from "../core/storage.js";

/** Auxiliary metadata about a familiar identity: at most one per (`reference`, `key`) slot. */
export interface IdentityMetadataDTO {
  id: string;
  reference: string;
  /** Absent means the "no key" slot, which is not the same as `""`. */
  key?: string;
  value: JsonValue;
}

/**
 * The longest `key`, in UTF-16 code units (`key.length`), the same on every storage. A slot names the reference
 * and the key as JSON text (up to 6 bytes a unit, escaped), so every slot fits an index entry in any database.
 */
export const MAX_IDENTITY_METADATA_KEY_LENGTH = 256;

/** The 1 MiB default limit on a value's serialized size. */
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

/**
 * IdentityMetadata as stored: the slot names reference and key, the record's data is the value's JSON and
 * nothing else, so a value is serialized once (for the size check and the storage alike) and parsed once.
 */
export class IdentityMetadataStore {
  readonly collection: string;

  constructor(
    private readonly storage: StorageAdapter,
    scope: string,
  ) {
    this.collection = `${scope}/identityMetadata`;
  }

  /** Stores the value in its slot, atomically; returns the record's id (the existing one on an update). */
  async upsert(reference: string, key: string | undefined, valueJson: string): Promise<string> {
    const slot = metadataSlot(reference, key);
    const record = { id: generateId("IDM"), slot, peers: [reference], data: valueJson };
    return (await this.storage.upsertBySlot(this.collection, record)).id;
  }

  async get(reference: string, key: string | undefined): Promise<IdentityMetadataDTO | undefined> {
    const record = await this.storage.getBySlot(this.collection, metadataSlot(reference, key));
    return record === undefined
      ? undefined
      : toMetadataDTO(record.id, reference, key, JSON.parse(record.data) as JsonValue);
  }

  /** Whether there was a record in the slot to delete. */
  async delete(reference: string, key: string | undefined): Promise<boolean> {
    const [deleted] = await this.storage.commit([
      { kind: "deleteBySlot", collection: this.collection, slot: metadataSlot(reference, key) },
    ]);
    return deleted !== 0;
  }

  /** The change that deletes every record about `reference`, for a unit of work. */
  deleteAbout(reference: string): StorageChange {
    return { kind: "deleteByPeer", collection: this.collection, peer: reference };
  }
}
