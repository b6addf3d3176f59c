// "identity-runtime/testing": what integrators need to test their own code against this library (a test
// world, Result assertions) and to prove their own storage adapters (the compliance suites).
export { createTestWorld } from "./testing/world.js";
export type { EventLog, RecordedEvent, TestWorld, TestWorldOptions } from "./testing/world.js";
export { assertErr, assertOk, resultMatchers } from "./testing/results.js";
export type { MessagePattern, ResultMatchers } from "./testing/results.js";
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
