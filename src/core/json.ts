/** A JSON value, as IdentityMetadata, message and template content store it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Why `value` is not JSON that round-trips exactly, or undefined when it is. Rejects undefined, functions,
 * symbols, BigInt, NaN and ±Infinity, cycles, sparse arrays and non-plain objects (Date, Map, class instances).
 */
export function whyNotJson(value: unknown, path: string, seen: Set<object> = new Set()): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${path} must be a finite number, not ${String(value)}`;
    case "object": {
      if (value === null) return undefined;
      if (seen.has(value)) return `${path} must not contain a cycle`;
      seen.add(value);
      const problem = Array.isArray(value)
        ? whyNotJsonArray(value, path, seen)
        : whyNotJsonObject(value, path, seen);
      seen.delete(value);
      return problem;
    }
    case "undefined":
    case "function":
    case "symbol":
    case "bigint":
      return `${path} must be JSON, not ${typeof value}`;
  }
}

function whyNotJsonArray(array: unknown[], path: string, seen: Set<object>): string | undefined {
  for (let index = 0; index < array.length; index++) {
    if (!(index in array)) return `${path}[${index}] must not be a hole in the array`;
    const problem = whyNotJson(array[index], `${path}[${index}]`, seen);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function whyNotJsonObject(object: object, path: string, seen: Set<object>): string | undefined {
  if (!isPlainObject(object)) {
    return `${path} must be a plain JSON object, not ${object.constructor?.name ?? "an exotic object"}`;
  }
  if (Object.getOwnPropertySymbols(object).length > 0) return `${path} must not have symbol keys`;
  for (const [key, child] of Object.entries(object)) {
    const problem = whyNotJson(child, `${path}.${key}`, seen);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Whether `value` is a plain object: its prototype is null or some realm's `Object.prototype`. Comparing with
 * this realm's `Object.prototype` would refuse objects made in another one (a vm context, jest's sandbox).
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/** Whether `text` takes more than `maxBytes` bytes as UTF-8, counting the bytes only when it could. */
export function utf8LengthExceeds(text: string, maxBytes: number): boolean {
  // Every UTF-16 unit takes 1 to 3 bytes of UTF-8, so the length bounds the byte count from both sides.
  if (text.length * 3 <= maxBytes) return false;
  if (text.length > maxBytes) return true;
  return Buffer.byteLength(text) > maxBytes;
}

/** A deep copy, made in this realm, of a value that is JSON (a JsonValue, or a DTO made of JSON). */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
