import type { Store } from "../core/context.js";
import { generateId } from "../core/ids.js";
import type { JsonValue } from "../core/json.js";
import type { StorageAdapter, StorageChange, StorageOperations } from "../core/storage.js";
import { metadataSlot, toMetadataDTO } from "./model.js";
import type { IdentityMetadataDTO } from "./model.js";

/**
 * IdentityMetadata as stored: the slot names reference and key, the record's data is the value's JSON and
 * nothing else, so a value is serialized once (for the size check and the storage alike) and parsed once.
 */
export class IdentityMetadataStore implements Store {
  readonly #storage: StorageAdapter;
  readonly #collection: string;

  constructor({ storage, address }: { storage: StorageAdapter; address: string }) {
    this.#storage = storage;
    this.#collection = `${address}/identityMetadata`;
  }

  get collections(): readonly string[] {
    return [this.#collection];
  }

  /**
   * Stores the value in its slot, atomically (in the transaction `tx`, if given); returns the record's id (the
   * existing one on an update).
   */
  async upsert(
    reference: string,
    key: string | undefined,
    valueJson: string,
    tx: StorageOperations = this.#storage,
  ): Promise<string> {
    const slot = metadataSlot(reference, key);
    const record = { id: generateId("IDM"), slot, peers: [reference], data: valueJson };
    return (await tx.upsertBySlot(this.#collection, record)).id;
  }

  async get(reference: string, key: string | undefined): Promise<IdentityMetadataDTO | undefined> {
    const record = await this.#storage.getBySlot(this.#collection, metadataSlot(reference, key));
    return record === undefined
      ? undefined
      : toMetadataDTO(record.id, reference, key, JSON.parse(record.data) as JsonValue);
  }

  /** Whether there was a record in the slot to delete. */
  async delete(reference: string, key: string | undefined): Promise<boolean> {
    const [deleted] = await this.#storage.commit([
      { kind: "deleteBySlot", collection: this.#collection, slot: metadataSlot(reference, key) },
    ]);
    return deleted !== 0;
  }

  /** Every record about the peer goes (all keys): behaviour §2. */
  forgetPeer(peer: string): Promise<StorageChange[]> {
    return Promise.resolve([{ kind: "deleteByPeer", collection: this.#collection, peer }]);
  }
}
