import { RecordCollection } from "../core/record-collection.js";
import type { StorageAdapter } from "../core/storage.js";
import type { RelationshipDTO, RelationshipTemplateDTO } from "./model.js";

export function relationshipCollection(
  storage: StorageAdapter,
  scope: string,
): RecordCollection<RelationshipDTO> {
  return new RecordCollection<RelationshipDTO>(storage, `${scope}/relationships`, (relationship) => ({
    peers: [relationship.peer],
  }));
}

export function templateCollection(
  storage: StorageAdapter,
  scope: string,
): RecordCollection<RelationshipTemplateDTO> {
  return new RecordCollection<RelationshipTemplateDTO>(
    storage,
    `${scope}/relationshipTemplates`,
    (template) => ({
      peers: [template.createdBy],
    }),
  );
}
