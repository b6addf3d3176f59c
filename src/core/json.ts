/**
 * A JSON value, as IdentityMetadata, message and template content store it.
 * @example
 * const value: JsonValue = { tags: ["customer", "vip"], since: 2024, verified: true, note: null };
 * await runtime.identityMetadata.upsertIdentityMetadata({ reference: peer, value });
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/**
 * A JSON object: string keys to JSON values, such as a request's content.
 * @example
 * const draft = (await runtime.requests.createOutgoingRequest({ peer, content: { question: "Newsletter?" } })).unwrap();
 * const content: JsonObject = draft.content;
 */
export type JsonObject = { [key: string]: JsonValue };

/**
 * The deepest nesting of arrays and objects a JSON value may have: `{}` is 1 level, `{"a":[]}` 2.
 * @example
 * let deep: JsonValue = "leaf";
 * for (let level = 0; level < MAX_JSON_DEPTH; level++) deep = [deep]; // the deepest value accepted
 */
export const MAX_JSON_DEPTH = 256;

/** A caller's value, read once: the copy that was checked, or why it is not JSON (naming where). */
export type JsonCopy = { readonly value: JsonValue } | { readonly problem: string };

/**
 * Copies `value` as JSON while checking it, reading every property exactly once, so what was checked is what
 * is kept: a getter, a Proxy or an inherited `toJSON` cannot make the stored value differ from the checked
 * one. Refuses undefined, functions, symbols, BigInt, NaN and ±Infinity, cycles, sparse arrays, non-plain
 * objects (Date, Map, class instances), nesting deeper than `MAX_JSON_DEPTH`, and a value whose reading throws.
 */
export function copyJson(value: unknown, name: string): JsonCopy {
  const at: (string | number)[] = [];
  try {
    const copied = copy(value, at, []);
    return "problem" in copied ? { problem: `${pathText(name, at)} ${copied.problem}` } : copied;
  } catch (error) {
    return { problem: `${pathText(name, at)} could not be read: ${describe(error)}` };
  }
}

/** A value's copy, or what is wrong with the value at `at` (the path, kept as segments until it is needed). */
type Copied = { readonly value: JsonValue } | { readonly problem: string };

function copy(value: unknown, at: (string | number)[], ancestors: object[]): Copied {
  switch (typeof value) {
    case "string":
    case "boolean":
      return { value };
    case "number":
      return Number.isFinite(value) ? { value } : { problem: `must be a finite number, not ${value}` };
    case "object": {
      if (value === null) return { value };
      if (ancestors.includes(value)) return { problem: "must not contain a cycle" };
      // The check comes before the descent, so the recursion is never deeper than the limit.
      if (ancestors.length >= MAX_JSON_DEPTH) {
        return { problem: `must not be nested deeper than ${MAX_JSON_DEPTH} levels` };
      }
      ancestors.push(value);
      const copied = Array.isArray(value)
        ? copyArray(value, at, ancestors)
        : copyObject(value, at, ancestors);
      ancestors.pop();
      return copied;
    }
    case "undefined":
    case "function":
    case "symbol":
    case "bigint":
      return { problem: `must be JSON, not ${typeof value}` };
  }
}

function copyArray(array: readonly unknown[], at: (string | number)[], ancestors: object[]): Copied {
  const length = array.length;
  const copied = new Array<JsonValue>(length);
  for (let index = 0; index < length; index++) {
    at.push(index);
    if (!(index in array)) return { problem: "must not be a hole in the array" };
    const item = copy(array[index], at, ancestors);
    if ("problem" in item) return item;
    at.pop();
    copied[index] = item.value;
  }
  return { value: copied };
}

function copyObject(object: object, at: (string | number)[], ancestors: object[]): Copied {
  if (!isPlainObject(object)) return { problem: `must be a plain JSON object, not ${nameOf(object)}` };
  if (Object.getOwnPropertySymbols(object).length > 0) return { problem: "must not have symbol keys" };
  const copied: Record<string, JsonValue> = {};
  for (const key of Object.keys(object)) {
    at.push(key);
    const child = copy(object[key], at, ancestors);
    if ("problem" in child) return child;
    at.pop();
    // defineProperty, not assignment: a "__proto__" key stays data and never becomes a prototype.
    Object.defineProperty(copied, key, {
      value: child.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { value: copied };
}

/** `value.a[0].b`, shortened in the middle when long: a message names the place, it does not repeat the data. */
function pathText(name: string, at: readonly (string | number)[]): string {
  const text =
    name + at.map((segment) => (typeof segment === "number" ? `[${segment}]` : `.${segment}`)).join("");
  return text.length > 200 ? `${text.slice(0, 100)}…${text.slice(-100)}` : text;
}

/**
 * Whether `value` is a plain object: its prototype is null, or some realm's `Object.prototype` (a vm context
 * or jest's sandbox makes objects with another realm's). A prototype that merely ends the chain is not enough:
 * it could carry a `toJSON`.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype || isObjectPrototype(prototype);
}

/** Another realm's `Object.prototype`: the root of a chain whose own constructor is that realm's `Object`. */
function isObjectPrototype(prototype: unknown): boolean {
  if (typeof prototype !== "object" || prototype === null || Object.getPrototypeOf(prototype) !== null) {
    return false;
  }
  const constructor: unknown = Object.getOwnPropertyDescriptor(prototype, "constructor")?.value;
  return (
    typeof constructor === "function" &&
    constructor.name === "Object" &&
    Object.getOwnPropertyDescriptor(constructor, "prototype")?.value === prototype &&
    !Object.hasOwn(prototype, "toJSON")
  );
}

function nameOf(object: object): string {
  const prototype = Object.getPrototypeOf(object) as { constructor?: unknown } | null;
  const constructor = prototype?.constructor;
  return typeof constructor === "function" && constructor.name !== "" ? constructor.name : "an exotic object";
}

/** A thrown value, in a few words for a validation message. */
export function describe(error: unknown): string {
  try {
    const text = error instanceof Error ? String(error.message) : String(error);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    // The thrown value itself may be hostile (a Proxy, a toString that throws).
    return "an exception that cannot be shown";
  }
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
