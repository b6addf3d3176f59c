import { succeed } from "../../core/errors.js";
import type { RuntimeError, RuntimeResult } from "../../core/errors.js";
import type { Result } from "../../core/result.js";
import type { Runtime } from "../../runtime/runtime.js";
import type { HttpFailure } from "../errors.js";

/** The methods a route can have: those the Connector's API uses. */
export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE" | "PATCH";

/**
 * Every value of each query parameter, in the order given; `key=` present but empty is the empty string. A
 * prototype-less object, so `__proto__` is a parameter like any other.
 */
export type RouteQuery = Readonly<Record<string, readonly string[]>>;

/** What a route receives: the query, the JSON body and the path parameters. */
export interface RouteInput {
  query: RouteQuery;
  body: unknown;
  params: Record<string, string>;
}

/** Why a route refuses: an error of the runtime, or of the HTTP layer (a feature not modelled). */
export type RouteError = RuntimeError | HttpFailure;

/** A route's answer: the `result` of the success envelope, or why it refuses. */
export type RouteResult<T = unknown> = Result<T, RouteError>;

/** How the OpenAPI document describes one query parameter. */
export interface QueryParameter {
  description: string;
  required: boolean;
  /** Given several times, it matches any of its values (`peer=a&peer=b`, as axios sends arrays). */
  repeatable?: boolean;
}

/** What every route has: where it is and how the OpenAPI document names it. */
interface RouteBase {
  method: HttpMethod;
  /** Below the prefix (/api/v2 or /api/core/v1); `{id}` marks a path parameter. */
  path: string;
  operationId: string;
  summary: string;
}

/** A route served by a use case. */
export interface ServedRoute extends RouteBase {
  notModelled?: undefined;
  /** The status of a success; 204 answers without a body. */
  successStatus: 200 | 201 | 204;
  query?: Record<string, QueryParameter>;
  /** The request body's JSON schema, for routes that take one. */
  body?: Record<string, unknown>;
  /** The JSON schema of `result` in the success envelope. */
  result?: Record<string, unknown>;
  run(runtime: Runtime, input: RouteInput): Promise<RouteResult>;
}

/**
 * A path of a Connector feature identity-runtime does not model: it and every path below it answer
 * `error.http.notImplemented` (501) naming the feature, so a client learns why instead of seeing a 404.
 */
export interface NotModelledRoute extends RouteBase {
  /** The feature, as the error message names it (e.g. "attributes"). */
  notModelled: string;
}

/** One route of the API: what it does and how the OpenAPI document describes it. */
export type Route = ServedRoute | NotModelledRoute;

/** A use case's answer in the Connector's shape: its value shaped, its error as it is. */
export function shapedAs<T>(result: RuntimeResult<T>, shape: (value: T) => unknown): RouteResult {
  return result.ok ? succeed(shape(result.val)) : result;
}
