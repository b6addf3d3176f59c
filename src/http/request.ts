import type { IncomingMessage } from "node:http";
import { fail, runtimeError, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { MAX_JSON_DEPTH } from "../core/json.js";
import { HttpFailure, httpFailure } from "./errors.js";

/** The request target, split: its path without trailing slashes, and its query string. */
export interface RequestTarget {
  path: string;
  search: string;
}

/**
 * The path and query of a request target, or undefined when it is not one a server can answer. Read as text:
 * an origin-form target ("/path?query") is never handed to the URL parser, which would take "//host/" for an
 * authority (and throw on "//[").
 */
export function parseTarget(url: string | undefined): RequestTarget | undefined {
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
export function printable(url: string | undefined): string {
  return JSON.stringify((url ?? "").slice(0, 200)).slice(1, -1);
}

/**
 * The query as given: every value of each parameter, in order (list routes match any of them; the routes of
 * one IdentityMetadata slot refuse a second). A prototype-less object, so `__proto__` is a parameter like any
 * other (and so refused as unknown).
 */
export function queryOf(search: string): Record<string, string[]> {
  const query = Object.create(null) as Record<string, string[]>;
  for (const [name, value] of new URLSearchParams(search)) (query[name] ??= []).push(value);
  return query;
}

/**
 * The query with one value per parameter, for what takes each once (an IdentityMetadata slot has one reference
 * and one key): a second value is a validation error. Every parameter is passed on, so the use case's
 * validation names an unknown one.
 */
export function singleValued(
  query: Readonly<Record<string, readonly string[]>>,
): RuntimeResult<Record<string, string>> {
  const entries = Object.entries(query);
  const repeated = entries.find(([, values]) => values.length > 1);
  if (repeated !== undefined)
    return fail("error.runtime.validation.invalidPropertyValue", `${repeated[0]} must be given once`);
  // fromEntries defines data properties: a `__proto__` parameter stays one, which validation refuses as unknown.
  return succeed(Object.fromEntries(entries.map(([name, values]) => [name, values[0] as string])));
}

/** `singleValued` of the query, for what is served outside a route table (the event stream): refused by throwing. */
export function singleQueryOf(search: string): Record<string, string> {
  const single = singleValued(queryOf(search));
  if (single.err) throw new HttpFailure(single.val.code, single.val.message);
  return single.val;
}

/** A path segment, percent-decoded. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalid(`the path segment ${segment} is not valid percent-encoding`);
  }
}

/** The body as JSON, or undefined when there is none. Refuses other media types, oversized and broken bodies. */
export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBodyText(
    request,
    limit,
    (type) => type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type),
  );
  if (text === undefined || text.length === 0) return undefined;
  // A body is an object of properties holding JSON content: refused before parsing when nested deeper than that
  // can be, since parsing a deep body costs far more than this scan.
  if (nestingExceeds(text, MAX_JSON_DEPTH + 1)) {
    throw invalid(
      `JSON content must not be nested deeper than ${MAX_JSON_DEPTH} levels (the body is one more)`,
    );
  }
  try {
    // JSON.parse keeps "__proto__" as an own property: data, never a prototype.
    return JSON.parse(text) as unknown;
  } catch {
    throw httpFailure("error.http.invalidJson");
  }
}

/**
 * The body as UTF-8 text, or undefined when there is none. Refuses a media type `accepts` does not take
 * (`error.http.unsupportedMediaType`) and a body larger than `limit` bytes, declared or sent, without reading
 * more of it.
 */
export async function readBodyText(
  request: IncomingMessage,
  limit: number,
  accepts: (mediaType: string) => boolean,
): Promise<string | undefined> {
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  const chunked = request.headers["transfer-encoding"] !== undefined;
  if (!chunked && (Number.isNaN(declared) || declared === 0)) return undefined;
  const contentType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!accepts(contentType)) {
    request.resume();
    throw httpFailure("error.http.unsupportedMediaType", contentType);
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
  return Buffer.concat(chunks).toString("utf8");
}

/** Whether JSON text nests arrays and objects deeper than `limit`, counting outside strings only. */
export function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === BACKSLASH) index++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) depth--;
  }
  return false;
}

// The characters the scan looks at, as UTF-16 code units: " \ [ ] { }
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function tooLarge(limit: number): HttpFailure {
  return httpFailure("error.http.payloadTooLarge", limit).with({ connection: "close" });
}

function invalid(detail: string): HttpFailure {
  const error = runtimeError("error.runtime.validation.invalidPropertyValue", detail);
  return new HttpFailure(error.code, error.message);
}
