// "identity-runtime/testing": what third parties need to prove their own storage adapters.
export {
  runComplianceCase,
  runStorageAdapterComplianceSuite,
  storageAdapterComplianceCases,
} from "./storage/compliance.js";
export type { StorageAdapterFactory, StorageComplianceCase } from "./storage/compliance.js";
export {
  durableStorageComplianceCases,
  runDurableStorageComplianceSuite,
} from "./storage/durable-compliance.js";
export type { DurableStorage, DurableStorageComplianceCase } from "./storage/durable-compliance.js";
