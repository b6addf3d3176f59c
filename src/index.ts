// The public API: everything users import from "identity-runtime". Internals are not exported.
// Ok, Err and Result are ts-results' own; TypeDoc documents them with the comment on their export statement,
// so each has one of its own.
/**
 * Makes the success side of a Result: `Ok(value)` has `ok: true` and the value in `val`. What a facade
 * answers when a call succeeds; useful for stubs of your own that answer like the library.
 * @example
 * const found: Result<number, string> = Ok(42);
 * if (found.ok) console.log(found.val); // 42
 */
export { Ok } from "./core/result.js";
/**
 * Makes the error side of a Result: `Err(error)` has `ok: false` and the error in `val`. Every facade answers
 * its failures this way, with a `RuntimeError`, never by throwing.
 * @example
 * const parsed: Result<number, string> = Number.isNaN(Number(text)) ? Err("not a number") : Ok(Number(text));
 */
export { Err } from "./core/result.js";
/**
 * `Ok<T> | Err<E>` (ts-results): what every facade method answers, as `RuntimeResult<T>`. Check `ok` (or
 * `err`) before reading `val`; `unwrap()` returns the value or throws.
 * @example
 * const result = await runtime.identityMetadata.getIdentityMetadata({ reference: peer, key: "crm" });
 * if (result.ok) console.log(result.val.value);
 * else console.error(result.val.code);
 */
export type { Result } from "./core/result.js";

export { createRuntime } from "./runtime/runtime.js";
export type { EventJournalOptions, Runtime, RuntimeOptions } from "./runtime/runtime.js";
export type {
  EventName,
  JournalCursor,
  JournaledEvent,
  JournaledEventPage,
  JournalHead,
  RuntimeEvent,
  RuntimeEventJournal,
  RuntimeEventPayloads,
  RuntimeEvents,
} from "./runtime/events.js";

export { createHttpHandler } from "./http/handler.js";
export { HttpErrorCodes, statusOfCode } from "./http/errors.js";
export type { HttpErrorCode } from "./http/errors.js";
export type { HttpHandlerOptions } from "./http/handler.js";
export type { HttpErrorBody, RequestLogEntry } from "./http/serving.js";
export { openApiDocument } from "./http/openapi.js";
export { startWebhooks, verifyWebhookSignature, webhooksConfigProblems } from "./http/webhooks.js";
export type {
  Webhook,
  WebhookOptions,
  WebhookRetry,
  Webhooks,
  WebhookSignatureCheck,
  WebhooksConfig,
  WebhookTarget,
} from "./http/webhooks.js";
export { adminKeyProblem, createAdminHandler } from "./http/admin.js";
export type { AdminHandlerOptions } from "./http/admin.js";
export { createAdminUiHandler } from "./admin-ui/handler.js";
export type { AdminUiBackbone, AdminUiOptions } from "./admin-ui/handler.js";

export { LocalBackbone } from "./backbone/local-backbone.js";
export type { LocalBackboneOptions } from "./backbone/local-backbone.js";
export type {
  AdminAuditContext,
  AdminAuditEntry,
  AdminAuditPage,
  AdminIdentity,
  AdminIdentityDeletionProcess,
  AdminIdentityDetails,
  AdminIdentityPage,
  AdminIdentityQuery,
  AdminIdentityStatus,
  BackboneAdmin,
} from "./backbone/admin.js";
export type {
  Backbone,
  BackboneInbox,
  NewRelationshipTemplate,
  RelationshipStatusChange,
} from "./backbone/backbone.js";

export { ManualClock, SystemClock } from "./core/clock.js";
export type { Clock, Duration } from "./core/clock.js";
export { ErrorCodes, RuntimeError } from "./core/errors.js";
export type { CheckResult, ErrorCode, RuntimeResult } from "./core/errors.js";
export { ADDRESS_PATTERN, isAddress } from "./core/address.js";
export { MAX_JSON_DEPTH } from "./core/json.js";
export type { JsonObject, JsonValue } from "./core/json.js";
export { SlotTakenError, StorageFailure } from "./core/storage.js";
export type { StorageAdapter, StorageChange, StorageOperations, StoredRecord } from "./core/storage.js";
export { lokiStorage } from "./storage/loki-storage.js";
export { postgresStorage } from "./storage/postgres/index.js";
export type { PostgresPool, PostgresStorageOptions } from "./storage/postgres/index.js";
export { sqliteStorage } from "./storage/sqlite-storage.js";
export type { SqliteDatabase, SqliteStorageOptions } from "./storage/sqlite-storage.js";

export type { IdentityMetadataFacade } from "./identity-metadata/facade.js";
export type {
  IdentityMetadataSlotRequest,
  UpsertIdentityMetadataRequest,
} from "./identity-metadata/facade.js";
export {
  DEFAULT_MAX_IDENTITY_METADATA_VALUE_BYTES,
  MAX_IDENTITY_METADATA_KEY_LENGTH,
} from "./identity-metadata/model.js";
export type { IdentityMetadataDTO } from "./identity-metadata/model.js";

export type { RelationshipsFacade } from "./relationships/facade.js";
export type {
  CreateOwnRelationshipTemplateRequest,
  CreateRelationshipRequest,
  GetRelationshipsQuery,
  RelationshipIdRequest,
} from "./relationships/facade.js";
export type {
  PeerDeletionEvent,
  PeerDeletionInfo,
  RelationshipAuditLogEntryDTO,
  RelationshipAuditLogEntryReason,
  RelationshipDTO,
  RelationshipStatus,
  RelationshipTemplateDTO,
} from "./relationships/model.js";

export type { IdentityDeletionFacade } from "./identity-deletion/facade.js";
export type {
  IdentityDeletionStatus,
  InitiateIdentityDeletionProcessRequest,
} from "./identity-deletion/facade.js";
export type {
  IdentityDeletionDecision,
  IdentityDeletionProcessDTO,
  IdentityDeletionProcessStatus,
} from "./identity-deletion/model.js";

export type { RequestsFacade } from "./requests/facade.js";
export type { CreateOutgoingRequestRequest, IncomingRequestIdRequest } from "./requests/facade.js";
export type { LocalRequestDTO, LocalRequestResponse, LocalRequestStatus } from "./requests/model.js";

export type { MessagesFacade } from "./messages/facade.js";
export type { SendMessageRequest } from "./messages/facade.js";
export type { MessageDTO } from "./messages/model.js";
