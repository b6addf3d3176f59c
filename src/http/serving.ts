import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { runtimeError } from "../core/errors.js";
import type { RuntimeError } from "../core/errors.js";
import { generateId } from "../core/ids.js";
import type { Result } from "../core/result.js";
import { HttpFailure, httpFailure, statusOfCode } from "./errors.js";
import { decodeSegment, parseTarget, printable } from "./request.js";
import type { RequestTarget } from "./request.js";

// What the API handler and the admin handler share: the guard every request runs in, the key check, route
// matching and the envelopes.

/**
 * One request, as `onResponse` is told of it once its response is sent.
 * @example
 * const log = (entry: RequestLogEntry): void => console.log(JSON.stringify(entry));
 * const handler = createHttpHandler(runtime, { apiKey, onResponse: log });
 */
export interface RequestLogEntry {
  /** The request's method, as sent. */
  method: string;
  /** The path of the request target, without its query. */
  path: string;
  /** The status answered; 499 when the client went away before the answer. */
  status: number;
  /** Milliseconds from the request's arrival until its response was sent (or the client went away). */
  ms: number;
}

/**
 * The error body of every failed request, as the enmeshed Connector sends it.
 * @example
 * const response = await fetch(`${baseUrl}/api/v2/IdentityMetadata`, { headers: { "X-API-KEY": "wrong" } });
 * const { error } = (await response.json()) as HttpErrorBody;
 * console.log(response.status, error.code); // 401 "error.http.unauthorized"
 */
export interface HttpErrorBody {
  /** What went wrong. */
  error: {
    /** An id of this one error (`ERR…`), to find it in logs. */
    id: string;
    /** The error code, of the runtime or of the HTTP layer. */
    code: string;
    /** What went wrong, in a sentence. */
    message: string;
    /** Where the enmeshed documentation explains the code. */
    docs: string;
    /** When the error was answered, as an ISO 8601 instant. */
    time: string;
  };
}

/** Where a handler reports its requests and the causes of its 5xx answers (see `HttpHandlerOptions`). */
interface Reporting {
  onResponse?: (entry: RequestLogEntry) => void;
  onError?: (error: unknown, request: { method: string; path: string }) => void;
}

/**
 * What a handler does with one request whose target could be read. It may throw: an HttpFailure is answered
 * with its status, anything else is reported and answered 500.
 */
type Serve = (
  request: IncomingMessage,
  response: ServerResponse,
  method: string,
  target: RequestTarget,
  report: (error: unknown) => void,
) => Promise<void>;

/** The status logged for a request whose client went away before the answer (as nginx logs it). */
const CLIENT_CLOSED_REQUEST = 499;

/** What an HTTP header value can carry intact: printable ASCII, no white space at either end (it is trimmed). */
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** Whether a client can send `key` in a header as it is: otherwise no request could ever be authorized. */
export function isSendableKey(key: string): boolean {
  return HEADER_VALUE.test(key);
}

/**
 * A `node:http` handler running `serve` for each request inside one guard: it can only answer, never throw,
 * and it tells `onResponse` of each request once. A target that is neither a path nor an absolute http(s) URL
 * is answered 400 before `serve` sees the request. A refusal is answered by `answer`: the error envelope, unless
 * the handler answers in a format of its own (the Admin UI's pages).
 */
export function guarded(
  serve: Serve,
  reporting: Reporting,
  answer: (response: ServerResponse, failure: HttpFailure) => void = sendError,
): (request: IncomingMessage, response: ServerResponse) => void {
  const reportError =
    reporting.onError ??
    ((error: unknown, { method, path }: { method: string; path: string }) =>
      console.error(`identity-runtime: ${method} ${path} failed`, error));
  return (request, response) => {
    const started = process.hrtime.bigint();
    const target = parseTarget(request.url);
    const method = request.method ?? "GET";
    const path = target?.path ?? printable(request.url);
    const report = (error: unknown): void => {
      try {
        reportError(error, { method, path });
      } catch {
        // A failing error reporter must not take the server down with it.
      }
    };
    const serveTarget = async (): Promise<void> => {
      if (target !== undefined) return serve(request, response, method, target, report);
      request.resume();
      throw httpFailure("error.http.invalidRequestTarget").with({ connection: "close" });
    };
    // "close" comes after "finish", or alone when the client went away first: one log entry either way.
    response.once("close", () => {
      try {
        reporting.onResponse?.({
          method,
          path,
          status: response.writableFinished ? response.statusCode : CLIENT_CLOSED_REQUEST,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        });
      } catch (error) {
        report(error);
      }
    });
    serveTarget().catch((error: unknown) => {
      // A client that aborted its own request is no failure of the server's.
      if (!(error instanceof HttpFailure) && !request.destroyed) report(error);
      try {
        if (response.headersSent) response.destroy();
        // An HTTP-level refusal answers with its own status; anything else is a 500 that tells nothing.
        else answer(response, error instanceof HttpFailure ? error : genericUnknown());
      } catch (failure) {
        report(failure);
        response.destroy();
      }
    });
  };
}

/**
 * Checks that a request carries `key` in `header`, comparing in constant time; a missing or wrong key throws
 * `error.http.unauthorized`.
 */
export function keyCheck(header: string, key: string): (request: IncomingMessage) => void {
  const matches = secretCheck(key);
  const name = header.toLowerCase();
  return (request) => {
    const given = request.headers[name];
    if (typeof given !== "string" || !matches(given)) throw httpFailure("error.http.unauthorized", header);
  };
}

/** Whether a given text is `secret`, compared in constant time: a wrong guess tells nothing of how close it was. */
export function secretCheck(secret: string): (given: string) => boolean {
  const expected = digest(secret);
  return (given) => timingSafeEqual(digest(given), expected);
}

/** The path below the first of `prefixes` it lies under ("/" for the prefix itself), or undefined if none. */
export function pathBelow(prefixes: readonly string[], path: string): string | undefined {
  const prefix = prefixes.find((candidate) => path === candidate || path.startsWith(`${candidate}/`));
  return prefix === undefined ? undefined : path.slice(prefix.length) || "/";
}

/** A route as matching sees it: a method and a path below the prefix, `{name}` marking a parameter. */
interface RoutePath {
  readonly method: string;
  readonly path: string;
  /** Set on a Connector feature not modelled, whose route answers every path below its own too. */
  readonly notModelled?: string;
}

/**
 * The route of `routes` for `method` at `below` (the path below the prefix; undefined when outside it), with
 * its path parameters. Throws `error.http.routeNotFound` (naming the full `path`) when no route has that path,
 * and 405 with an Allow header when none of them has the method. HEAD is GET without the body (node:http leaves
 * the body out by itself).
 */
export function routeFor<R extends RoutePath>(
  routes: readonly R[],
  method: string,
  below: string | undefined,
  path: string,
): { route: R; params: Record<string, string> } {
  const matches = below === undefined ? [] : routes.flatMap((route) => matchRoute(routes, route, below));
  if (matches.length === 0) throw httpFailure("error.http.routeNotFound", method, path);
  const match = matches.find(({ route }) => route.method === (method === "HEAD" ? "GET" : method));
  if (match === undefined) {
    throw methodNotAllowed(method, path, [...new Set(matches.map(({ route }) => route.method))]);
  }
  return match;
}

function matchRoute<R extends RoutePath>(
  routes: readonly R[],
  route: R,
  path: string,
): { route: R; params: Record<string, string> }[] {
  const pattern = route.path.split("/");
  const actual = path.split("/");
  const deeper = route.notModelled !== undefined && actual.length > pattern.length;
  if (pattern.length !== actual.length && !deeper) return [];
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const expected = pattern[index] as string;
    const segment = actual[index] as string;
    if (expected.startsWith("{")) params[expected.slice(1, -1)] = decodeSegment(segment);
    else if (expected !== segment) return [];
  }
  // A literal route ("Active") wins over a parameter ("{id}") for the same path.
  if (Object.keys(params).length > 0 && routes.some((other) => other !== route && other.path === path))
    return [];
  return [{ route, params }];
}

export function methodNotAllowed(method: string, path: string, allowed: readonly string[]): HttpFailure {
  return httpFailure("error.http.methodNotAllowed", method, path, allowed).with({
    allow: allowed.join(", "),
  });
}

/** Answers GET (and HEAD) of an OpenAPI document, already serialized; other methods are 405. */
export function sendDocument(response: ServerResponse, method: string, path: string, document: string): void {
  if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(method, path, ["GET"]);
  response.writeHead(200, { "content-type": "application/json; charset=utf-8" });
  response.end(document);
}

/**
 * Answers a use case's Result: `{ result }` with the route's success status (204 without a body), or the
 * error's envelope; the cause of a 5xx goes to `report`.
 */
export function sendResult(
  response: ServerResponse,
  result: Result<unknown, RuntimeError | HttpFailure>,
  successStatus: 200 | 201 | 204,
  report: (error: unknown) => void,
): void {
  if (result.err) {
    // A refusal of the HTTP layer (a feature not modelled) is answered as it is.
    if (result.val instanceof HttpFailure) return sendError(response, result.val);
    if (statusOfCode(result.val.code) >= 500) report(result.val.cause ?? result.val);
    return sendError(response, publicError(result.val));
  }
  if (successStatus === 204) {
    response.writeHead(204);
    response.end();
    return;
  }
  send(response, successStatus, { result: result.val });
}

/**
 * What a client may see of an error: an unexpected one, or a storage failure, says no more than its code; the
 * cause (addresses, file paths, SQL) goes to the server's log.
 */
export function publicError(error: RuntimeError): HttpFailure {
  if (error.code === "error.runtime.unknown") return genericUnknown();
  if (error.code === "error.runtime.storage") {
    return new HttpFailure(
      error.code,
      runtimeError(error.code, "see the server's logs; try again later").message,
    );
  }
  return new HttpFailure(error.code, error.message);
}

function genericUnknown(): HttpFailure {
  const error = runtimeError("error.runtime.unknown", "see the server's logs");
  return new HttpFailure(error.code, error.message);
}

export function sendError(response: ServerResponse, failure: HttpFailure): void {
  const body: HttpErrorBody = {
    error: {
      id: generateId("ERR"),
      code: failure.code,
      message: failure.message,
      docs: `https://enmeshed.eu/integrate/error-codes#${failure.code}`,
      time: new Date().toISOString(),
    },
  };
  send(response, failure.status, body, failure.headers);
}

export function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

function digest(text: string): Buffer {
  // Hashing first makes both sides the same length, which timingSafeEqual requires.
  return createHash("sha256").update(text).digest();
}
