import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { errResult, runtimeError } from "../core/errors.js";
import type { RuntimeError, RuntimeResult } from "../core/errors.js";
import { generateId } from "../core/ids.js";
import type { Runtime } from "../runtime/runtime.js";
import { HttpFailure, httpFailure, statusOfCode } from "./errors.js";
import { openApiDocument } from "./openapi.js";
import { API_PREFIX_LIST } from "./prefixes.js";
import { decodeSegment, parseTarget, printable, queryOf, readJsonBody } from "./request.js";
import type { RequestTarget } from "./request.js";
import { ROUTES } from "./routes/index.js";
import type { HttpMethod, Route } from "./routes/index.js";

/**
 * How `createHttpHandler` serves: the API key it requires, and where it reports requests and failures.
 * @example
 * const options: HttpHandlerOptions = {
 *   apiKey: process.env.API_KEY!,
 *   onResponse: ({ method, path, status, ms }) => console.log(`${method} ${path} ${status} ${ms.toFixed(1)} ms`),
 * };
 * http.createServer(createHttpHandler(runtime, options)).listen(8080);
 */
export interface HttpHandlerOptions {
  /** Required on every route but `/health`, in the `X-API-KEY` header. */
  apiKey: string;
  /** The largest request body accepted, in bytes; default 2 MiB (an IdentityMetadata value may take 1 MiB). */
  bodyLimitBytes?: number;
  /** Called once per request when its response is sent: the place for request logs. */
  onResponse?: (entry: RequestLogEntry) => void;
  /**
   * Told the cause of every 5xx answer (an unexpected exception, a storage failure), which the client never
   * sees; default: `console.error`.
   */
  onError?: (error: unknown, request: { method: string; path: string }) => void;
}

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

const DEFAULT_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/** How long one `/health` answer about the storage stands, so a flood of probes costs one read per interval. */
const HEALTH_CHECK_INTERVAL_MS = 1_000;

/** How long `/health` waits for the storage: a database that stops answering is as unhealthy as one that refuses. */
const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/** What an HTTP header value can carry intact: printable ASCII, no white space at either end (it is trimmed). */
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** Whether a client can send `key` in X-API-KEY as it is: otherwise no request could ever be authorized. */
export function isSendableApiKey(key: string): boolean {
  return HEADER_VALUE.test(key);
}

/** The status logged for a request whose client went away before the answer (as nginx logs it). */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * A plain `node:http` request handler serving the runtime's use cases with the enmeshed Connector's routes,
 * shapes and envelopes; the Connector features it does not model answer 501. Mount it in `http.createServer`,
 * Express or Fastify.
 * @example
 * const server = http.createServer(createHttpHandler(runtime, { apiKey: process.env.API_KEY! }));
 * server.listen(8080);
 */
export function createHttpHandler(
  runtime: Runtime,
  options: HttpHandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  if (typeof options.apiKey !== "string" || !isSendableApiKey(options.apiKey)) {
    throw new TypeError(
      "createHttpHandler needs an apiKey of printable ASCII without spaces at either end: a client can send no other in X-API-KEY",
    );
  }
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 1) {
    throw new RangeError("bodyLimitBytes must be a whole number of bytes ≥ 1");
  }
  const expectedKey = digest(options.apiKey);
  const document = JSON.stringify(openApiDocument());
  const reportError =
    options.onError ??
    ((error: unknown, { method, path }: { method: string; path: string }) =>
      console.error(`identity-runtime: ${method} ${path} failed`, error));
  const health = healthCheck(runtime);

  // Everything a request does runs inside this guard: it can only answer, never throw.
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
    // "close" comes after "finish", or alone when the client went away first: one log entry either way.
    response.once("close", () => {
      try {
        options.onResponse?.({
          method,
          path,
          status: response.writableFinished ? response.statusCode : CLIENT_CLOSED_REQUEST,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        });
      } catch (error) {
        report(error);
      }
    });
    serve(request, response, method, target, report).catch((error: unknown) => {
      // A client that aborted its own request is no failure of the server's.
      if (!(error instanceof HttpFailure) && !request.destroyed) report(error);
      try {
        if (response.headersSent) response.destroy();
        // An HTTP-level refusal answers with its own status; anything else is a 500 that tells nothing.
        else sendError(response, error instanceof HttpFailure ? error : genericUnknown());
      } catch (failure) {
        report(failure);
        response.destroy();
      }
    });
  };

  async function serve(
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
    target: RequestTarget | undefined,
    report: (error: unknown) => void,
  ): Promise<void> {
    if (target === undefined) {
      request.resume();
      throw httpFailure("error.http.invalidRequestTarget").with({ connection: "close" });
    }
    const { path } = target;
    if (path === "/health") {
      if (method !== "GET" && method !== "HEAD")
        return sendError(response, methodNotAllowed(method, path, ["GET"]));
      const storage = await health();
      if (storage.err) report(storage.val.cause ?? storage.val);
      return send(response, storage.ok ? 200 : 503, { isHealthy: storage.ok });
    }
    const key = request.headers["x-api-key"];
    if (typeof key !== "string" || !timingSafeEqual(digest(key), expectedKey)) {
      return sendError(response, httpFailure("error.http.unauthorized"));
    }
    const prefix = API_PREFIX_LIST.find(
      (candidate) => path === candidate || path.startsWith(`${candidate}/`),
    );
    const below = prefix === undefined ? undefined : path.slice(prefix.length) || "/";
    if (below === "/openapi.json") {
      if (method !== "GET" && method !== "HEAD")
        return sendError(response, methodNotAllowed(method, path, ["GET"]));
      response.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      response.end(document);
      return;
    }
    const matches =
      below === undefined ? [] : ROUTES.map((route) => matchRoute(route, below)).filter(isDefined);
    if (matches.length === 0)
      return sendError(response, httpFailure("error.http.routeNotFound", method, path));
    // HEAD is GET without the body (node:http leaves the body out by itself).
    const match = matches.find(({ route }) => route.method === (method === "HEAD" ? "GET" : method));
    if (match === undefined) {
      const allowed = new Set(matches.map(({ route }) => route.method));
      return sendError(response, methodNotAllowed(method, path, [...allowed]));
    }
    if (match.route.notModelled !== undefined)
      return sendError(response, httpFailure("error.http.notImplemented", match.route.notModelled));
    const query = queryOf(target.search);
    const body = match.route.body === undefined ? undefined : await readJsonBody(request, bodyLimit);
    const result = await match.route.run(runtime, { query, body, params: match.params });
    if (result.err) {
      if (result.val instanceof HttpFailure) return sendError(response, result.val);
      if (statusOfCode(result.val.code) >= 500) report(result.val.cause ?? result.val);
      return sendError(response, publicError(result.val));
    }
    if (match.route.successStatus === 204) {
      response.writeHead(204);
      response.end();
      return;
    }
    return send(response, match.route.successStatus, { result: result.val });
  }
}

function matchRoute(
  route: Route,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  const pattern = route.path.split("/");
  const actual = path.split("/");
  // A feature not modelled answers for every path below its own too.
  const deeper = route.notModelled !== undefined && actual.length > pattern.length;
  if (pattern.length !== actual.length && !deeper) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const expected = pattern[index] as string;
    const segment = actual[index] as string;
    if (expected.startsWith("{")) params[expected.slice(1, -1)] = decodeSegment(segment);
    else if (expected !== segment) return undefined;
  }
  // A literal route ("Active") wins over a parameter ("{id}") for the same path.
  if (Object.keys(params).length > 0 && ROUTES.some((other) => other !== route && other.path === path))
    return undefined;
  return { route, params };
}

function methodNotAllowed(method: string, path: string, allowed: readonly string[]): HttpFailure {
  return httpFailure("error.http.methodNotAllowed", method, path, allowed).with({
    allow: allowed.join(", "),
  });
}

/**
 * What a client may see of an error: an unexpected one, or a storage failure, says no more than its code; the
 * cause (addresses, file paths, SQL) goes to the server's log.
 */
function publicError(error: RuntimeError): HttpFailure {
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

/**
 * The storage check of `/health`: one read per interval however many probes come, shared while in flight, and
 * given up after a timeout (the read itself goes on; the answer is 503 meanwhile).
 */
function healthCheck(runtime: Runtime): () => Promise<RuntimeResult<void>> {
  let last: { at: number; answer: Promise<RuntimeResult<void>> } | undefined;
  return () => {
    const now = performance.now();
    if (last === undefined || now - last.at >= HEALTH_CHECK_INTERVAL_MS) {
      last = { at: now, answer: withinHealthTimeout(runtime.checkHealth()) };
    }
    return last.answer;
  };
}

function withinHealthTimeout(check: Promise<RuntimeResult<void>>): Promise<RuntimeResult<void>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<RuntimeResult<void>>((resolve) => {
    timer = setTimeout(
      () =>
        resolve(
          errResult(runtimeError("error.runtime.storage", `no answer within ${HEALTH_CHECK_TIMEOUT_MS} ms`)),
        ),
      HEALTH_CHECK_TIMEOUT_MS,
    );
    timer.unref();
  });
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}

function sendError(response: ServerResponse, failure: HttpFailure): void {
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

function send(
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

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

export type { HttpMethod };
