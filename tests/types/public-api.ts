// Compile-time tests of the public types: `npm run typecheck` fails when a facade method's return or error type,
// or an event's payload, drifts from what is written here. Nothing here runs.
import type { IncomingMessage, ServerResponse } from "node:http";
import type {
  adminKeyProblem,
  createAdminHandler,
  createAdminUiHandler,
  createHttpHandler,
  startWebhooks,
  verifyWebhookSignature,
} from "../../src/index";
import type {
  AdminAuditContext,
  AdminAuditEntry,
  AdminAuditPage,
  AdminHandlerOptions,
  AdminIdentityDetails,
  AdminIdentityPage,
  AdminIdentityStatus,
  AdminUiBackbone,
  AdminUiOptions,
  BackboneAdmin,
  CheckResult,
  LocalBackbone,
  EventName,
  IdentityDeletionProcessDTO,
  IdentityMetadataDTO,
  JournaledEvent,
  JournaledEventPage,
  LocalRequestDTO,
  MessageDTO,
  RelationshipDTO,
  RelationshipTemplateDTO,
  Result,
  Runtime,
  RuntimeError,
  RuntimeEvent,
  RuntimeEventJournal,
  RuntimeEventPayloads,
  Webhooks,
} from "../../src/index";

/** Exactly equal types (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

/** What a facade method resolves to. */
type Resolved<F> = F extends (...args: never[]) => Promise<infer R> ? R : never;

type Metadata = Runtime["identityMetadata"];
type Deletion = Runtime["identityDeletion"];
type Relationships = Runtime["relationships"];
type Requests = Runtime["requests"];

export type FacadeResults = [
  Assert<Equal<Resolved<Metadata["upsertIdentityMetadata"]>, Result<IdentityMetadataDTO, RuntimeError>>>,
  Assert<Equal<Resolved<Metadata["getIdentityMetadata"]>, Result<IdentityMetadataDTO, RuntimeError>>>,
  Assert<Equal<Resolved<Metadata["deleteIdentityMetadata"]>, Result<void, RuntimeError>>>,
  Assert<
    Equal<
      Resolved<Deletion["initiateIdentityDeletionProcess"]>,
      Result<IdentityDeletionProcessDTO, RuntimeError>
    >
  >,
  Assert<
    Equal<
      Resolved<Deletion["approveIdentityDeletionProcess"]>,
      Result<IdentityDeletionProcessDTO, RuntimeError>
    >
  >,
  Assert<
    Equal<
      Resolved<Deletion["rejectIdentityDeletionProcess"]>,
      Result<IdentityDeletionProcessDTO, RuntimeError>
    >
  >,
  Assert<
    Equal<
      Resolved<Deletion["cancelIdentityDeletionProcess"]>,
      Result<IdentityDeletionProcessDTO, RuntimeError>
    >
  >,
  Assert<
    Equal<Resolved<Deletion["getIdentityDeletionProcess"]>, Result<IdentityDeletionProcessDTO, RuntimeError>>
  >,
  Assert<
    Equal<
      Resolved<Deletion["getIdentityDeletionProcesses"]>,
      Result<IdentityDeletionProcessDTO[], RuntimeError>
    >
  >,
  Assert<
    Equal<
      Resolved<Deletion["getActiveIdentityDeletionProcess"]>,
      Result<IdentityDeletionProcessDTO, RuntimeError>
    >
  >,
  Assert<
    Equal<
      Resolved<Deletion["checkIfIdentityIsDeleted"]>,
      Result<{ isDeleted: boolean; deletionDate?: string }, RuntimeError>
    >
  >,
  Assert<
    Equal<
      Resolved<Relationships["createOwnRelationshipTemplate"]>,
      Result<RelationshipTemplateDTO, RuntimeError>
    >
  >,
  Assert<Equal<Resolved<Relationships["canCreateRelationship"]>, Result<CheckResult, RuntimeError>>>,
  Assert<Equal<Resolved<Relationships["createRelationship"]>, Result<RelationshipDTO, RuntimeError>>>,
  Assert<Equal<Resolved<Relationships["acceptRelationship"]>, Result<RelationshipDTO, RuntimeError>>>,
  Assert<Equal<Resolved<Relationships["decomposeRelationship"]>, Result<void, RuntimeError>>>,
  Assert<Equal<Resolved<Relationships["getRelationships"]>, Result<RelationshipDTO[], RuntimeError>>>,
  Assert<Equal<Resolved<Runtime["messages"]["sendMessage"]>, Result<MessageDTO, RuntimeError>>>,
  Assert<Equal<Resolved<Runtime["messages"]["getMessages"]>, Result<MessageDTO[], RuntimeError>>>,
  Assert<Equal<Resolved<Runtime["messages"]["getMessage"]>, Result<MessageDTO, RuntimeError>>>,
  Assert<Equal<Resolved<Requests["createOutgoingRequest"]>, Result<LocalRequestDTO, RuntimeError>>>,
  Assert<Equal<Resolved<Requests["canAcceptIncomingRequest"]>, Result<CheckResult, RuntimeError>>>,
  Assert<Equal<Resolved<Requests["acceptIncomingRequest"]>, Result<LocalRequestDTO, RuntimeError>>>,
  Assert<Equal<Resolved<Runtime["eraseLocalData"]>, Result<void, RuntimeError>>>,
  Assert<Equal<Resolved<Runtime["checkHealth"]>, Result<void, RuntimeError>>>,
];

export type EventPayloads = [
  Assert<Equal<RuntimeEventPayloads["transport.peerToBeDeleted"], RelationshipDTO>>,
  Assert<Equal<RuntimeEventPayloads["transport.peerDeleted"], RelationshipDTO>>,
  Assert<Equal<RuntimeEventPayloads["transport.peerDeletionCancelled"], RelationshipDTO>>,
  Assert<Equal<RuntimeEventPayloads["transport.peerDeletionCancelledEvent"], RelationshipDTO>>,
  Assert<Equal<RuntimeEventPayloads["transport.relationshipChanged"], RelationshipDTO>>,
  Assert<Equal<RuntimeEventPayloads["transport.relationshipDecomposedBySelf"], { relationshipId: string }>>,
  Assert<
    Equal<RuntimeEventPayloads["transport.identityDeletionProcessStatusChanged"], IdentityDeletionProcessDTO>
  >,
  Assert<Equal<RuntimeEventPayloads["transport.messageReceived"], MessageDTO>>,
  Assert<
    Equal<
      RuntimeEvent<"transport.peerDeleted">,
      { name: "transport.peerDeleted"; eventTargetAddress: string; data: RelationshipDTO }
    >
  >,
  Assert<Equal<Extract<"transport.notAnEvent", EventName>, never>>,
];

/** The Backbone Admin API and its HTTP handler, which mounts like the API's. */
export type Admin = [
  Assert<
    Equal<
      Resolved<BackboneAdmin["startIdentityDeletionProcess"]>,
      Result<IdentityDeletionProcessDTO, RuntimeError>
    >
  >,
  Assert<Equal<Resolved<BackboneAdmin["listIdentities"]>, Result<AdminIdentityPage, RuntimeError>>>,
  Assert<Equal<Resolved<BackboneAdmin["getIdentity"]>, Result<AdminIdentityDetails, RuntimeError>>>,
  Assert<Equal<AdminIdentityStatus, "Active" | "ToBeDeleted" | "Deleted">>,
  Assert<Equal<Parameters<typeof createAdminHandler>, [BackboneAdmin, AdminHandlerOptions]>>,
  Assert<
    Equal<ReturnType<typeof createAdminHandler>, (request: IncomingMessage, response: ServerResponse) => void>
  >,
  Assert<Equal<ReturnType<typeof createAdminHandler>, ReturnType<typeof createHttpHandler>>>,
  Assert<Equal<ReturnType<typeof adminKeyProblem>, string | undefined>>,
  Assert<Equal<Parameters<BackboneAdmin["startIdentityDeletionProcess"]>, [string, AdminAuditContext?]>>,
  Assert<Equal<Resolved<BackboneAdmin["listAuditLog"]>, Result<AdminAuditPage, RuntimeError>>>,
  Assert<Equal<AdminAuditEntry["outcome"], "started" | "refused">>,
  Assert<Equal<Parameters<typeof createAdminUiHandler>, [AdminUiBackbone, AdminUiOptions]>>,
  Assert<Equal<ReturnType<typeof createAdminUiHandler>, ReturnType<typeof createHttpHandler>>>,
  // A LocalBackbone is what the Admin UI runs on.
  Assert<LocalBackbone extends AdminUiBackbone ? true : false>,
];

/** The event journal and what delivers from it. */
export type EventsOut = [
  Assert<Equal<Runtime["journal"], RuntimeEventJournal | undefined>>,
  Assert<Equal<Resolved<RuntimeEventJournal["read"]>, Result<JournaledEventPage, RuntimeError>>>,
  Assert<Equal<JournaledEventPage["events"], JournaledEvent[]>>,
  Assert<Equal<Resolved<RuntimeEventJournal["advance"]>, Result<void, RuntimeError>>>,
  Assert<Equal<Extract<JournaledEvent, { name: "transport.peerDeleted" }>["data"], RelationshipDTO>>,
  Assert<Equal<Resolved<Runtime["sync"]>, Result<void, RuntimeError>>>,
  Assert<Equal<Resolved<typeof startWebhooks>, Webhooks>>,
  Assert<Equal<ReturnType<typeof verifyWebhookSignature>, boolean>>,
];

/** The error side: a code from the catalogue and a message, never `any`. */
export type Errors = [
  Assert<Equal<RuntimeError["message"], string>>,
  Assert<Equal<Parameters<Runtime["events"]["on"]>[0], EventName>>,
];
