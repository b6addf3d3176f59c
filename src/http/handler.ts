import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorArgs, ErrorCode } from "../core/errors.js";
import { runtimeError } from "../core/errors.js";
import type { RuntimeError } from "../core/errors.js";
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

  return (request, response) => {
    const started = process.hrtime.bigint();
    const path = pathOf(request.url);
    response.once("finish", () =>
      options.onResponse?.({
        method: request.method ?? "",
        path,
        status: response.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      }),
    );
    serve(request, response, path).catch((error: unknown) => {
      if (response.headersSent) return response.destroy();
      // An HTTP-level refusal answers with its own status; anything else is a 500 that tells nothing.
      sendError(response, error instanceof HttpFailure ? error : new HttpFailure(500, genericUnknown()));
    });
  };

  async function serve(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const method = request.method ?? "GET";
    if (path === "/health") {
      if (method !== "GET" && method !== "HEAD")
        return sendError(response, methodNotAllowed(method, path, ["GET"]));
      return send(response, 200, { isHealthy: true });
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
    const query = queryOf(request.url);
    const body = match.route.body === undefined ? undefined : await readJsonBody(request, bodyLimit);
    const result = await match.route.run(runtime, { query, body, params: match.params });
    if (result.err)
      return sendError(response, new HttpFailure(statusOfCode(result.val.code), publicError(result.val)));
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

/** The query as given; a parameter given twice is refused, since a slot has one reference and one key. */
function queryOf(url: string | undefined): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [name, value] of new URL(url ?? "/", "http://localhost").searchParams) {
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

/** What a client may see of an error: an unexpected one says no more than that it happened. */
function publicError(error: RuntimeError): RuntimeError {
  return error.code === "error.runtime.unknown" ? genericUnknown() : error;
}

function genericUnknown(): RuntimeError {
  return runtimeError("error.runtime.unknown", "see the server's logs");
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

function pathOf(url: string | undefined): string {
  return new URL(url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
}

function digest(text: string): Buffer {
  // Hashing first makes both sides the same length, which timingSafeEqual requires.
  return createHash("sha256").update(text).digest();
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

export type { HttpMethod };
