import type { ErrorCode } from "../core/errors.js";

const quote = (value: unknown): string => JSON.stringify(value);

/** The HTTP layer's own errors: code → message factory. The runtime's codes live in `core/errors.ts`. */
const httpCatalogue = {
  "error.http.unauthorized": (header: string) => `The ${header} header is missing or wrong.`,
  "error.http.invalidRequestTarget": () =>
    "The request target is neither a path (/api/v2/…) nor an absolute http(s) URL that can be parsed.",
  "error.http.routeNotFound": (method: string, path: string) => `There is no route ${method} ${path}.`,
  "error.http.methodNotAllowed": (method: string, path: string, allowed: readonly string[]) =>
    `${path} does not support ${method}; it supports ${allowed.join(", ")}.`,
  "error.http.unsupportedMediaType": (contentType: string) =>
    `The body must be application/json, not ${contentType === "" ? "without a content type" : quote(contentType)}.`,
  "error.http.payloadTooLarge": (limit: number) => `The body is larger than ${limit} bytes.`,
  "error.http.invalidJson": () => "The body is not valid JSON.",
  "error.http.notImplemented": (feature: string) =>
    `identity-runtime does not model ${feature}, so this Connector route is not implemented.`,
  "error.http.noEventJournal": () =>
    "The runtime keeps no event journal, so it has no event stream: create it with createRuntime({ eventJournal: true }) (identity-runtime serve always does).",
} as const;

/**
 * Every error code of the HTTP layer.
 * @useDeclaredType
 * @example
 * const code: HttpErrorCode = "error.http.unauthorized";
 * statusOfCode(code); // 401
 */
export type HttpErrorCode = keyof typeof httpCatalogue;

/**
 * Every error code of the HTTP layer, in the order of its catalogue (the README's table lists them too).
 * @example
 * for (const code of HttpErrorCodes) console.log(code, statusOfCode(code));
 */
export const HttpErrorCodes: readonly HttpErrorCode[] = Object.freeze(
  Object.keys(httpCatalogue) as HttpErrorCode[],
);

/**
 * How each code answers over HTTP. The compiler keeps the table complete: a new error code without a status
 * does not compile. Not found is 404 (the Connector says 400), a state conflict 409, the storage or a closed
 * runtime 503, a Connector feature this library does not model 501.
 */
const STATUS_OF_CODE = {
  "error.runtime.validation.invalidPropertyValue": 400,
  "error.runtime.recordNotFound": 404,
  "error.runtime.unknown": 500,
  "error.runtime.storage": 503,
  "error.runtime.runtimeClosed": 503,
  "error.runtime.identityNotDeleted": 409,
  "error.runtime.identityDeleted": 409,
  "error.runtime.identityMetadata.notFound": 404,
  "error.runtime.identityMetadata.unfamiliarReferencedIdentity": 400,
  "error.runtime.identityDeletionProcess.activeIdentityDeletionProcessAlreadyExists": 409,
  "error.runtime.identityDeletionProcess.noActiveIdentityDeletionProcess": 404,
  "error.runtime.identityDeletionProcess.noWaitingForApprovalIdentityDeletionProcess": 409,
  "error.runtime.identityDeletionProcess.noApprovedIdentityDeletionProcess": 409,
  "error.transport.relationships.wrongRelationshipStatus": 400,
  "error.transport.relationships.relationshipCurrentlyExists": 400,
  "error.transport.relationships.relationshipTemplateExpired": 400,
  "error.transport.relationships.relationshipTemplateAllocationsExhausted": 400,
  "error.transport.relationships.cannotCreateRelationshipWithYourself": 400,
  "error.transport.relationships.activeIdentityDeletionProcessOfOwnerOfRelationshipTemplate": 400,
  "error.transport.relationships.deletedOwnerOfRelationshipTemplate": 400,
  "error.runtime.relationships.cannotAcceptOrRejectRelationshipCreatedByYourself": 400,
  "error.runtime.relationships.cannotRevokeRelationshipCreatedByOthers": 400,
  "error.transport.messages.peerIsDeleted": 400,
  "error.runtime.messages.peerIsInDeletion": 400,
  "error.runtime.messages.hasNoActiveRelationship": 400,
  "error.transport.messages.hasNeitherActiveNorTerminatedRelationship": 400,
  "error.consumption.requests.peerIsDeleted": 400,
  "error.consumption.requests.peerIsInDeletion": 400,
  "error.consumption.requests.missingRelationship": 400,
  "error.consumption.requests.wrongRelationshipStatus": 400,
  "error.consumption.requests.wrongRequestStatus": 400,
  "error.http.unauthorized": 401,
  "error.http.invalidRequestTarget": 400,
  "error.http.routeNotFound": 404,
  "error.http.methodNotAllowed": 405,
  "error.http.unsupportedMediaType": 415,
  "error.http.payloadTooLarge": 413,
  "error.http.invalidJson": 400,
  "error.http.notImplemented": 501,
  "error.http.noEventJournal": 501,
} as const satisfies Record<ErrorCode | HttpErrorCode, number>;

/**
 * The HTTP status an error code answers with; 500 for a string that is no code of this library.
 * @example
 * statusOfCode("error.runtime.identityMetadata.notFound"); // 404
 */
export function statusOfCode(code: string): number {
  return Object.hasOwn(STATUS_OF_CODE, code) ? STATUS_OF_CODE[code as keyof typeof STATUS_OF_CODE] : 500;
}

/** A refusal on the way to a route: answered with the code's status, the envelope and its own headers. */
export class HttpFailure extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode | HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = statusOfCode(code);
  }

  /** The same refusal, answered with these headers too. */
  with(headers: Record<string, string>): HttpFailure {
    return new HttpFailure(this.code, this.message, { ...this.headers, ...headers });
  }
}

/** The failure of an HTTP-level code, its message made from `args`. */
export function httpFailure<C extends HttpErrorCode>(
  code: C,
  ...args: Parameters<(typeof httpCatalogue)[C]>
): HttpFailure {
  const format = httpCatalogue[code] as (...params: Parameters<(typeof httpCatalogue)[C]>) => string;
  return new HttpFailure(code, format(...args));
}
