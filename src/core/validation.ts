import type { Result } from "./result.js";
import { ADDRESS_PATTERN } from "./address.js";
import { fail, succeed } from "./errors.js";
import type { RuntimeError } from "./errors.js";
import type { IdPrefix } from "./ids.js";
import { idPattern } from "./ids.js";
import { copyJson, describe, isPlainObject } from "./json.js";
import type { JsonObject, JsonValue } from "./json.js";

/** What a property holds once valid (a copy, where it is not a primitive), or why it is invalid. */
export type Parsed<T> = { readonly value: T } | { readonly problem: string };

/** One property's rule. `T` is the type a valid value has. */
export interface Field<T, Optional extends boolean = boolean> {
  readonly optional: Optional;
  parse(value: unknown, name: string): Parsed<T>;
}

type Shape = Record<string, Field<unknown>>;
type TypeOf<F> = F extends Field<infer T> ? T : never;
type RequiredKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends Field<unknown, false> ? K : never;
}[keyof S];
type OptionalKeys<S extends Shape> = Exclude<keyof S, RequiredKeys<S>>;
export type RequestOf<S extends Shape> = { [K in RequiredKeys<S>]: TypeOf<S[K]> } & {
  [K in OptionalKeys<S>]?: TypeOf<S[K]>;
};

/** A rule for primitives, which are their own copy: only the check is needed. */
function primitive<T>(check: (value: unknown, name: string) => string | undefined): Field<T, false> {
  return {
    optional: false,
    parse: (value, name) => {
      const problem = check(value, name);
      return problem === undefined ? { value: value as T } : { problem };
    },
  };
}

const LONE_SURROGATE = /\p{Surrogate}/u;

/** `YYYY-MM-DDTHH:MM[:SS[.fff…]]` and a zone (`Z`, `±HH:MM`; none means local time): calendar checked below. */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$/i;

export const rules = {
  string(options: { maxLength?: number; wellFormed?: boolean } = {}): Field<string, false> {
    return primitive((value, name) => {
      if (typeof value !== "string") return `${name} must be a string`;
      if (options.maxLength !== undefined && value.length > options.maxLength) {
        return `${name} must be at most ${options.maxLength} characters long, not ${value.length}`;
      }
      if (options.wellFormed === true && LONE_SURROGATE.test(value)) {
        return `${name} must be well-formed Unicode: it has a lone surrogate, which no URL can carry`;
      }
      return undefined;
    });
  },
  address(): Field<string, false> {
    return primitive((value, name) =>
      typeof value === "string" && ADDRESS_PATTERN.test(value)
        ? undefined
        : `${name} must match the address pattern did:e:<host>:dids:<22 hex characters>`,
    );
  },
  id(prefix: IdPrefix): Field<string, false> {
    const pattern = idPattern(prefix);
    return primitive((value, name) =>
      typeof value === "string" && pattern.test(value)
        ? undefined
        : `${name} must be an id of ${prefix} and 17 characters of [A-Za-z0-9]`,
    );
  },
  number(options: { min?: number; integer?: boolean } = {}): Field<number, false> {
    return primitive((value, name) => {
      if (typeof value !== "number" || !Number.isFinite(value)) return `${name} must be a finite number`;
      if (options.integer === true && !Number.isInteger(value)) return `${name} must be an integer`;
      if (options.min !== undefined && value < options.min) return `${name} must be at least ${options.min}`;
      return undefined;
    });
  },
  /** An ISO 8601 date-time of a day that exists: `2031-02-30T…` is refused, not moved to March. */
  isoDate(): Field<string, false> {
    return primitive((value, name) =>
      typeof value === "string" && isCalendarDateTime(value)
        ? undefined
        : `${name} must be an ISO 8601 date-time string of a date that exists`,
    );
  },
  oneOf<T extends string>(allowed: readonly T[]): Field<T, false> {
    return primitive((value, name) =>
      allowed.includes(value as T) ? undefined : `${name} must be one of ${allowed.join(", ")}`,
    );
  },
  /** Any JSON value, copied as it is checked. */
  json(): Field<JsonValue, false> {
    return { optional: false, parse: (value, name) => copyJson(value, name) };
  },
  /** A JSON object (not an array, not null), copied as it is checked. */
  jsonObject(): Field<JsonObject, false> {
    return {
      optional: false,
      parse: (value, name) => {
        const copied = copyJson(value, name);
        if ("problem" in copied) return copied;
        return isPlainObject(copied.value)
          ? { value: copied.value }
          : { problem: `${name} must be a JSON object` };
      },
    };
  },
  array<T>(item: Field<T, false>, options: { minItems?: number } = {}): Field<T[], false> {
    return {
      optional: false,
      parse: (value, name) => {
        if (!Array.isArray(value)) return { problem: `${name} must be an array` };
        const length = value.length;
        if (options.minItems !== undefined && length < options.minItems) {
          return { problem: `${name} must have at least ${options.minItems} item(s)` };
        }
        const items: T[] = [];
        for (let index = 0; index < length; index++) {
          const parsed = item.parse(value[index], `${name}[${index}]`);
          if ("problem" in parsed) return parsed;
          items.push(parsed.value);
        }
        return { value: items };
      },
    };
  },
  optional<T>(inner: Field<T, false>): Field<T, true> {
    return { optional: true, parse: (value, name) => inner.parse(value, name) };
  },
} as const;

/** A rule's verdict; a value that throws while the rule reads it (a getter, a revoked Proxy) is invalid too. */
function parseGuarded<T>(rule: Field<T>, value: unknown, name: string): Parsed<T> {
  try {
    return rule.parse(value, name);
  } catch (error) {
    return { problem: `${name} could not be read: ${describe(error)}` };
  }
}

/** Whether `text` is an ISO 8601 date-time whose year, month, day exist (leap years included). */
function isCalendarDateTime(text: string): boolean {
  const match = ISO_DATE_TIME.exec(text);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  // Day 0 of the next month is the last day of this one.
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate() && !Number.isNaN(Date.parse(text));
}

/** A request's rules: every property named here, no other property allowed. */
export interface RequestSchema<S extends Shape> {
  readonly shape: S;
  /** The shape's entries, listed once rather than on every call. */
  readonly fields: readonly (readonly [string, Field<unknown>])[];
  /** Whether an absent request (`undefined`) counts as `{}`; for calls whose properties are all optional. */
  readonly mayBeOmitted: boolean;
}

export function requestSchema<S extends Shape>(
  shape: S,
  options: { mayBeOmitted?: boolean } = {},
): RequestSchema<S> {
  return { shape, fields: Object.entries(shape), mayBeOmitted: options.mayBeOmitted ?? false };
}

/** The schema of calls that take no request. */
export const NO_REQUEST = requestSchema({}, { mayBeOmitted: true });

/**
 * Checks a request against its schema: the first failure becomes `error.runtime.validation.invalidPropertyValue`
 * with a message naming the property. Properties set to `undefined` count as absent. What it returns is a
 * copy, made of what was read once and checked: later changes to the caller's object, getters and Proxies
 * cannot reach the use case, and a request that throws while being read is a validation error too.
 */
export function validateRequest<S extends Shape>(
  schema: RequestSchema<S>,
  request: unknown,
): Result<RequestOf<S>, RuntimeError> {
  if (request === undefined && schema.mayBeOmitted) return succeed({} as RequestOf<S>);
  let given: Map<string, unknown>;
  try {
    if (!isPlainObject(request))
      return fail("error.runtime.validation.invalidPropertyValue", "request must be an object");
    given = new Map(Object.keys(request).map((name) => [name, request[name]]));
  } catch (error) {
    return fail(
      "error.runtime.validation.invalidPropertyValue",
      `request could not be read: ${describe(error)}`,
    );
  }
  for (const [name, value] of given) {
    if (!Object.hasOwn(schema.shape, name) && value !== undefined) {
      return fail("error.runtime.validation.invalidPropertyValue", `${name} is not a known property`);
    }
  }
  const valid: Record<string, unknown> = {};
  for (const [name, rule] of schema.fields) {
    const value = given.get(name);
    if (value === undefined) {
      if (rule.optional) continue;
      return fail("error.runtime.validation.invalidPropertyValue", `${name} is required`);
    }
    const parsed = parseGuarded(rule, value, name);
    if ("problem" in parsed) return fail("error.runtime.validation.invalidPropertyValue", parsed.problem);
    valid[name] = parsed.value;
  }
  return succeed(valid as RequestOf<S>);
}
