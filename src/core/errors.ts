import { errWithoutStack, Ok } from "./result.js";
import type { Err, Result } from "./result.js";

const quote = (value: unknown): string => JSON.stringify(value);
const slotText = (reference: string, key: string | undefined): string =>
  key === undefined
    ? `reference ${quote(reference)} without a key`
    : `reference ${quote(reference)} and key ${quote(key)}`;
const list = (addresses: readonly string[]): string => addresses.map(quote).join(", ");

/**
 * Every error this library returns: code → message factory. The one table of codes; the README lists it too.
 * Messages name the offending property, address or id.
 */
const catalogue = {
  "error.runtime.validation.invalidPropertyValue": (detail: string) => detail,
  "error.runtime.recordNotFound": (type: string, id: string) => `${type} ${quote(id)} was not found.`,
  "error.runtime.unknown": (detail: string) => `An unexpected error occurred: ${detail}`,
  "error.runtime.storage": (detail: string) => `The storage failed: ${detail}`,
  "error.runtime.runtimeClosed": (what = "runtime") => `The ${what} has been closed.`,
  "error.runtime.identityNotDeleted": (address: string) =>
    `The identity ${quote(address)} has not been deleted; its local data can only be erased after its deletion.`,
  "error.runtime.identityDeleted": (address: string) =>
    `The identity ${quote(address)} has been deleted; only reads and erasing its local data are possible.`,

  "error.runtime.identityMetadata.notFound": (reference: string, key: string | undefined) =>
    `There is no IdentityMetadata for ${slotText(reference, key)}.`,
  "error.runtime.identityMetadata.unfamiliarReferencedIdentity": (reference: string) =>
    `The reference ${quote(reference)} is neither the own address nor the peer of a relationship.`,

  "error.runtime.identityDeletionProcess.activeIdentityDeletionProcessAlreadyExists": (address: string) =>
    `The identity ${quote(address)} already has an active IdentityDeletionProcess.`,
  "error.runtime.identityDeletionProcess.noActiveIdentityDeletionProcess": (address: string) =>
    `The identity ${quote(address)} has no active IdentityDeletionProcess.`,
  "error.runtime.identityDeletionProcess.noWaitingForApprovalIdentityDeletionProcess": (address: string) =>
    `The identity ${quote(address)} has no IdentityDeletionProcess waiting for approval within its approval period.`,
  "error.runtime.identityDeletionProcess.noApprovedIdentityDeletionProcess": (address: string) =>
    `The identity ${quote(address)} has no approved IdentityDeletionProcess within its grace period.`,

  "error.transport.relationships.wrongRelationshipStatus": (
    id: string,
    status: string,
    allowed: readonly string[],
  ) => `The relationship ${quote(id)} is ${status}; this needs it to be ${allowed.join(" or ")}.`,
  "error.transport.relationships.relationshipCurrentlyExists": (peer: string, status: string) =>
    `A relationship to ${quote(peer)} in status ${status} exists already.`,
  "error.transport.relationships.relationshipTemplateExpired": (templateId: string) =>
    `The relationship template ${quote(templateId)} has expired.`,
  "error.transport.relationships.relationshipTemplateAllocationsExhausted": (templateId: string) =>
    `The relationship template ${quote(templateId)} has reached its maxNumberOfAllocations.`,
  "error.transport.relationships.cannotCreateRelationshipWithYourself": (templateId: string) =>
    `The relationship template ${quote(templateId)} is your own; a relationship needs a peer.`,
  "error.transport.relationships.activeIdentityDeletionProcessOfOwnerOfRelationshipTemplate": (
    owner: string,
  ) => `The creator ${quote(owner)} of the relationship template is in deletion.`,
  "error.transport.relationships.deletedOwnerOfRelationshipTemplate": (owner: string) =>
    `The creator ${quote(owner)} of the relationship template has been deleted.`,
  "error.runtime.relationships.cannotAcceptOrRejectRelationshipCreatedByYourself": (id: string) =>
    `The relationship ${quote(id)} was created by you; only the template's creator can accept or reject it.`,
  "error.runtime.relationships.cannotRevokeRelationshipCreatedByOthers": (id: string) =>
    `The relationship ${quote(id)} was created by the peer; only its creator can revoke it.`,

  "error.transport.messages.peerIsDeleted": (addresses: readonly string[]) =>
    `These recipients have been deleted: ${list(addresses)}.`,
  "error.runtime.messages.peerIsInDeletion": (addresses: readonly string[]) =>
    `These recipients are in deletion and only receive Notifications: ${list(addresses)}.`,
  "error.runtime.messages.hasNoActiveRelationship": (addresses: readonly string[]) =>
    `There is no active relationship to these recipients: ${list(addresses)}.`,
  "error.transport.messages.hasNeitherActiveNorTerminatedRelationship": (addresses: readonly string[]) =>
    `There is neither an active nor a terminated relationship to these recipients: ${list(addresses)}.`,

  "error.consumption.requests.peerIsDeleted": (peer: string) => `The peer ${quote(peer)} has been deleted.`,
  "error.consumption.requests.peerIsInDeletion": (peer: string) => `The peer ${quote(peer)} is in deletion.`,
  "error.consumption.requests.missingRelationship": (peer: string) =>
    `There is no relationship to ${quote(peer)}.`,
  "error.consumption.requests.wrongRelationshipStatus": (
    peer: string,
    status: string,
    allowed: readonly string[],
  ) => `The relationship to ${quote(peer)} is ${status}; this needs it to be ${allowed.join(" or ")}.`,
  "error.consumption.requests.wrongRequestStatus": (id: string, status: string, allowed: readonly string[]) =>
    `The request ${quote(id)} is ${status}; this needs it to be ${allowed.join(" or ")}.`,
} as const;

type Catalogue = typeof catalogue;

/**
 * Every error code the library can return.
 * @useDeclaredType
 * @example
 * const result = await runtime.relationships.getRelationship({ id: "REL…" });
 * const code: ErrorCode | undefined = result.err ? result.val.code : undefined;
 */
export type ErrorCode = keyof Catalogue;

/** What the message of `C` is made from. */
export type ErrorArgs<C extends ErrorCode> = Parameters<Catalogue[C]>;

/**
 * Every error code a facade or the Backbone can return, in the order of the catalogue: to check that a code is
 * one of ours, or to build a table over all of them. (The HTTP layer's own codes are `HttpErrorCodes`.)
 * @example
 * const isOurs = (code: string): code is ErrorCode => (ErrorCodes as readonly string[]).includes(code);
 */
export const ErrorCodes: readonly ErrorCode[] = Object.freeze(Object.keys(catalogue) as ErrorCode[]);

/**
 * The error side of every Result. Deliberately not an `Error`: building one must stay cheap on hot paths.
 * @example
 * const result = await runtime.identityMetadata.getIdentityMetadata({ reference: peer });
 * if (result.err) console.log(result.val.code, result.val.message);
 */
export class RuntimeError {
  constructor(
    /** What went wrong, as one of the catalogue's codes: what callers branch on. */
    readonly code: ErrorCode,
    /** What went wrong, in a sentence naming the offending property, address or id. */
    readonly message: string,
    /** The unexpected exception behind an `error.runtime.unknown`, if any. */
    readonly cause?: unknown,
  ) {}

  /** The code and message, without the cause: what `JSON.stringify` writes of the error. */
  toJSON(): {
    /** The error's code. */
    code: ErrorCode;
    /** The error's message. */
    message: string;
  } {
    return { code: this.code, message: this.message };
  }

  /** `code: message`, for logs. */
  toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

/**
 * What every facade call resolves to: the value, or the RuntimeError saying why there is none.
 * @example
 * const result: RuntimeResult<IdentityMetadataDTO> = await runtime.identityMetadata.getIdentityMetadata({
 *   reference: runtime.address,
 * });
 * if (result.ok) console.log(result.val.value);
 */
export type RuntimeResult<T> = Result<T, RuntimeError>;

/**
 * The outcome of a `can…` check: why an action would fail, without acting.
 * @example
 * const check = (await runtime.relationships.canCreateRelationship({ templateId })).unwrap();
 * if (!check.isSuccess) console.log(check.code, check.message);
 */
export interface CheckResult {
  /** Whether the action would succeed now. */
  isSuccess: boolean;
  /** The code the action would fail with; only when it would fail. */
  code?: ErrorCode;
  /** The message the action would fail with; only when it would fail. */
  message?: string;
}

export function runtimeError<C extends ErrorCode>(code: C, ...args: ErrorArgs<C>): RuntimeError {
  const format = catalogue[code] as (...params: ErrorArgs<C>) => string;
  return new RuntimeError(code, format(...args));
}

/** The failed Result of `error`, built without a stack trace (see `core/result.ts`). */
export function errResult(error: RuntimeError): Err<RuntimeError> {
  return errWithoutStack(error);
}

export function fail<C extends ErrorCode>(code: C, ...args: ErrorArgs<C>): Err<RuntimeError> {
  return errResult(runtimeError(code, ...args));
}

export function succeed<T>(value: T): Ok<T> {
  return new Ok(value);
}

/** The record found, or `error.runtime.recordNotFound` naming what was looked for. */
export function foundOr<T>(record: T | undefined, type: string, id: string): RuntimeResult<T> {
  return record === undefined ? fail("error.runtime.recordNotFound", type, id) : succeed(record);
}

export function checkPassed(): CheckResult {
  return { isSuccess: true };
}

export function checkOf(result: RuntimeResult<unknown>): CheckResult {
  return result.ok ? checkPassed() : { isSuccess: false, code: result.val.code, message: result.val.message };
}

/**
 * The one conversion point for exceptions that escape domain code: a storage failure becomes
 * `error.runtime.storage`, anything else `error.runtime.unknown`; both keep the cause.
 */
export function unexpected(cause: unknown): Err<RuntimeError> {
  const detail = cause instanceof Error ? cause.message : String(cause);
  // By name: a StorageFailure thrown by an adapter built against another copy of this package still counts.
  const code =
    cause instanceof Error && cause.name === "StorageFailure"
      ? "error.runtime.storage"
      : "error.runtime.unknown";
  return errResult(new RuntimeError(code, catalogue[code](detail), cause));
}
