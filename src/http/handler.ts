import type { IncomingMessage, ServerResponse } from "node:http";
import { errResult, runtimeError } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import type { Runtime } from "../runtime/runtime.js";
import { httpFailure } from "./errors.js";
import { eventStreamRequest, streamEvents } from "./event-stream.js";
import { openApiDocument } from "./openapi.js";
import { API_PREFIX_LIST } from "./prefixes.js";
import { queryOf, readJsonBody, singleQueryOf } from "./request.js";
import type { RequestTarget } from "./request.js";
import { ROUTES } from "./routes/index.js";
import type { HttpMethod } from "./routes/index.js";
import {
  guarded,
  isSendableKey,
  keyCheck,
  methodNotAllowed,
  pathBelow,
  routeFor,
  send,
  sendDocument,
  sendError,
  sendResult,
} from "./serving.js";
import type { RequestLogEntry } from "./serving.js";

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
  /** When it aborts, open event streams (`GET /Events`) end: abort it when the server shuts down. */
  signal?: AbortSignal;
  /** How often an idle event stream sends a comment, so proxies keep it open; default 15 s. */
  eventStreamHeartbeatMs?: number;
}

const DEFAULT_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/** How long one `/health` answer about the storage stands, so a flood of probes costs one read per interval. */
const HEALTH_CHECK_INTERVAL_MS = 1_000;

/** How long `/health` waits for the storage: a database that stops answering is as unhealthy as one that refuses. */
const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/** Whether a client can send `key` in X-API-KEY as it is: otherwise no request could ever be authorized. */
export { isSendableKey as isSendableApiKey };

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
  if (typeof options.apiKey !== "string" || !isSendableKey(options.apiKey)) {
    throw new TypeError(
      "createHttpHandler needs an apiKey of printable ASCII without spaces at either end: a client can send no other in X-API-KEY",
    );
  }
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 1) {
    throw new RangeError("bodyLimitBytes must be a whole number of bytes ≥ 1");
  }
  const checkKey = keyCheck("X-API-KEY", options.apiKey);
  const document = JSON.stringify(openApiDocument());
  const health = healthCheck(runtime);

  // Everything a request does runs inside this guard: it can only answer, never throw.
  return guarded(serve, options);

  async function serve(
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
    target: RequestTarget,
    report: (error: unknown) => void,
  ): Promise<void> {
    const { path } = target;
    if (path === "/health") {
      if (method !== "GET" && method !== "HEAD")
        return sendError(response, methodNotAllowed(method, path, ["GET"]));
      const storage = await health();
      if (storage.err) report(storage.val.cause ?? storage.val);
      return send(response, storage.ok ? 200 : 503, { isHealthy: storage.ok });
    }
    checkKey(request);
    const below = pathBelow(API_PREFIX_LIST, path);
    if (below === "/openapi.json") return sendDocument(response, method, path, document);
    if (below === "/Events") {
      if (method !== "GET") return sendError(response, methodNotAllowed(method, path, ["GET"]));
      if (runtime.journal === undefined) return sendError(response, httpFailure("error.http.noEventJournal"));
      const stream = eventStreamRequest(request, singleQueryOf(target.search));
      return streamEvents(response, runtime.journal, stream, {
        signal: options.signal ?? new AbortController().signal,
        heartbeatMs: options.eventStreamHeartbeatMs ?? 15_000,
      });
    }
    const match = routeFor(ROUTES, method, below, path);
    if (match.route.notModelled !== undefined)
      throw httpFailure("error.http.notImplemented", match.route.notModelled);
    const query = queryOf(target.search);
    const body = match.route.body === undefined ? undefined : await readJsonBody(request, bodyLimit);
    const result = await match.route.run(runtime, { query, body, params: match.params });
    sendResult(response, result, match.route.successStatus, report);
  }
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

export type { HttpMethod };
