import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorArgs, ErrorCode } from "../core/errors.js";
import { runtimeError } from "../core/errors.js";
import type { RuntimeError, RuntimeResult } from "../core/errors.js";
import { generateId } from "../core/ids.js";
import type { Runtime } from "../runtime/runtime.js";
import { openApiDocument } from "./openapi.js";
import { API_PREFIX_LIST } from "./prefixes.js";
import { ROUTES } from "./routes.js";
import type { HttpMethod, Route } from "./routes.js";

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

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  ms: number;
}

/** The error body of every failed request, as the enmeshed Connector sends it. */
export interface HttpErrorBody {
  error: { id: string; code: string; message: string; docs: string; time: string };
}

const DEFAULT_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/** How long one `/health` answer about the storage stands, so a flood of probes costs one read per interval. */
const HEALTH_CHECK_INTERVAL_MS = 1_000;

/** How each error code answers over HTTP: not found 404, state conflicts 409, closed 503, the rest 400. */
export function statusOfCode(code: string): number {
  if (code.endsWith(".notFound") || code === "error.runtime.recordNotFound") return 404;
  if (code === "error.runtime.identityDeletionProcess.noActiveIdentityDeletionProcess") return 404;
  if (code.startsWith("error.runtime.identityDeletionProcess.")) return 409;
  if (code === "error.runtime.identityDeleted" || code === "error.runtime.identityNotDeleted") return 409;
  if (code === "error.runtime.runtimeClosed" || code === "error.runtime.storage") return 503;
  if (code === "error.runtime.unknown") return 500;
  return 400;
}

/** An HTTP-level failure: answered with its status and the envelope, before any route runs. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: RuntimeError,
    readonly headers: Record<string, string> = {},
  ) {
    super(error.message);
  }
}

function fail<C extends ErrorCode>(status: number, code: C, ...args: ErrorArgs<C>): HttpFailure {
  return new HttpFailure(status, runtimeError(code, ...args));
}

/**
 * A plain `node:http` request handler serving the runtime's IdentityMetadata and IdentityDeletionProcess use
 * cases with the enmeshed Connector's routes and envelopes. Mount it in `http.createServer`, Express or Fastify.
 * @example
 * const server = http.createServer(createHttpHandler(runtime, { apiKey: process.env.API_KEY! }));
 * server.listen(8080);
 */
export function createHttpHandler(
  runtime: Runtime,
  options: HttpHandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  if (typeof options.apiKey !== "string" || options.apiKey.length === 0) {
    throw new TypeError("createHttpHandler needs a non-empty apiKey");
  }
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
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
    response.once("finish", () => {
      try {
        options.onResponse?.({
          method,
          path,
          status: response.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        });
      } catch (error) {
        report(error);
      }
    });
    serve(request, response, method, target, report).catch((error: unknown) => {
      if (!(error instanceof HttpFailure)) report(error);
      try {
        if (response.headersSent) response.destroy();
        // An HTTP-level refusal answers with its own status; anything else is a 500 that tells nothing.
        else
          sendError(response, error instanceof HttpFailure ? error : new HttpFailure(500, genericUnknown()));
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
      throw new HttpFailure(400, runtimeError("error.http.invalidRequestTarget"), { connection: "close" });
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
      return sendError(response, fail(401, "error.http.unauthorized"));
    }
    const prefix = API_PREFIX_LIST.find(
      (candidate) => path === candidate || path.startsWith(`${candidate}/`),
    );
    const below = prefix === undefined ? undefined : path.slice(prefix.length) || "/";
    if (below === "/openapi.json") {
      if (method !== "GET") return sendError(response, methodNotAllowed(method, path, ["GET"]));
      response.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      response.end(document);
      return;
    }
    const matches =
      below === undefined ? [] : ROUTES.map((route) => matchRoute(route, below)).filter(isDefined);
    if (matches.length === 0) return sendError(response, fail(404, "error.http.routeNotFound", method, path));
    const match = matches.find(({ route }) => route.method === method);
    if (match === undefined) {
      return sendError(
        response,
        methodNotAllowed(method, path, [...new Set(matches.map(({ route }) => route.method))]),
      );
    }
    const query = queryOf(target.search);
    const body = match.route.body === undefined ? undefined : await readJsonBody(request, bodyLimit);
    const result = await match.route.run(runtime, { query, body, params: match.params });
    if (result.err) {
      const status = statusOfCode(result.val.code);
      if (status >= 500) report(result.val.cause ?? result.val);
      return sendError(response, new HttpFailure(status, publicError(result.val)));
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
  if (pattern.length !== actual.length) return undefined;
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

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpFailure(
      400,
      runtimeError(
        "error.runtime.validation.invalidPropertyValue",
        `the path segment ${segment} is not valid percent-encoding`,
      ),
    );
  }
}

/** The request target, split: its path without trailing slashes, and its query string. */
interface RequestTarget {
  path: string;
  search: string;
}

/**
 * The path and query of a request target, or undefined when it is not one a server can answer. Read as text:
 * an origin-form target ("/path?query") is never handed to the URL parser, which would take "//host/" for an
 * authority (and throw on "//[").
 */
function parseTarget(url: string | undefined): RequestTarget | undefined {
  const target = url ?? "/";
  if (target.startsWith("/")) {
    const [withoutFragment = ""] = target.split("#", 1);
    const queryAt = withoutFragment.indexOf("?");
    const path = queryAt === -1 ? withoutFragment : withoutFragment.slice(0, queryAt);
    const search = queryAt === -1 ? "" : withoutFragment.slice(queryAt + 1);
    return { path: path.replace(/\/+$/, "") || "/", search };
  }
  // The absolute form, which clients send to proxies; anything else ("*", an authority) is not for us.
  if (!/^https?:\/\//i.test(target) || !URL.canParse(target)) return undefined;
  const { pathname, search } = new URL(target);
  return { path: pathname.replace(/\/+$/, "") || "/", search: search.slice(1) };
}

/** A request target as it may appear in a log line: short, and with control characters escaped. */
function printable(url: string | undefined): string {
  return JSON.stringify((url ?? "").slice(0, 200)).slice(1, -1);
}

/**
 * The query as given; a parameter given twice is refused, since a slot has one reference and one key. A
 * prototype-less object, so `__proto__` is a parameter like any other (and so refused as unknown).
 */
function queryOf(search: string): Record<string, string> {
  const query = Object.create(null) as Record<string, string>;
  for (const [name, value] of new URLSearchParams(search)) {
    if (Object.hasOwn(query, name)) {
      throw new HttpFailure(
        400,
        runtimeError("error.runtime.validation.invalidPropertyValue", `${name} must be given once`),
      );
    }
    query[name] = value;
  }
  return query;
}

/** The body as JSON, or undefined when there is none. Refuses other media types, oversized and broken bodies. */
async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  const chunked = request.headers["transfer-encoding"] !== undefined;
  if (!chunked && (Number.isNaN(declared) || declared === 0)) return undefined;
  const contentType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (contentType !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(contentType)) {
    request.resume();
    throw new HttpFailure(415, runtimeError("error.http.unsupportedMediaType", contentType));
  }
  if (declared > limit) {
    request.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      request.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.length === 0) return undefined;
  try {
    // JSON.parse keeps "__proto__" as an own property: data, never a prototype.
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpFailure(400, runtimeError("error.http.invalidJson"));
  }
}

function tooLarge(limit: number): HttpFailure {
  return new HttpFailure(413, runtimeError("error.http.payloadTooLarge", limit), { connection: "close" });
}

function methodNotAllowed(method: string, path: string, allowed: readonly string[]): HttpFailure {
  return new HttpFailure(405, runtimeError("error.http.methodNotAllowed", method, path, allowed), {
    allow: allowed.join(", "),
  });
}

/**
 * What a client may see of an error: an unexpected one, or a storage failure, says no more than its code; the
 * cause (addresses, file paths, SQL) goes to the server's log.
 */
function publicError(error: RuntimeError): RuntimeError {
  if (error.code === "error.runtime.unknown") return genericUnknown();
  if (error.code === "error.runtime.storage")
    return runtimeError("error.runtime.storage", "see the server's logs; try again later");
  return error;
}

function genericUnknown(): RuntimeError {
  return runtimeError("error.runtime.unknown", "see the server's logs");
}

/** The storage check of `/health`: one read per interval however many probes come, shared while in flight. */
function healthCheck(runtime: Runtime): () => Promise<RuntimeResult<void>> {
  let last: { at: number; answer: Promise<RuntimeResult<void>> } | undefined;
  return () => {
    const now = performance.now();
    if (last === undefined || now - last.at >= HEALTH_CHECK_INTERVAL_MS) {
      last = { at: now, answer: runtime.checkHealth() };
    }
    return last.answer;
  };
}

function sendError(response: ServerResponse, failure: HttpFailure): void {
  const body: HttpErrorBody = {
    error: {
      id: generateId("ERR"),
      code: failure.error.code,
      message: failure.error.message,
      docs: `https://enmeshed.eu/integrate/error-codes#${failure.error.code}`,
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
