import type { Result } from "ts-results";
import { ADDRESS_PATTERN } from "./address.js";
import { fail, succeed } from "./errors.js";
import type { RuntimeError } from "./errors.js";
import type { IdPrefix } from "./ids.js";
import { idPattern } from "./ids.js";
import { isPlainObject, whyNotJson } from "./json.js";
import type { JsonObject, JsonValue } from "./json.js";

/** One property's rule: why a value breaks it, or undefined. `T` is the type it guarantees. */
export interface Field<T, Optional extends boolean = boolean> {
  readonly optional: Optional;
  check(value: unknown, name: string): string | undefined;
  /** Type-level only: what a value that passes is. */
  readonly __type?: T;
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

function field<T>(check: (value: unknown, name: string) => string | undefined): Field<T, false> {
  return { optional: false, check };
}

export const rules = {
  string(options: { maxLength?: number } = {}): Field<string, false> {
    return field((value, name) => {
      if (typeof value !== "string") return `${name} must be a string`;
      if (options.maxLength !== undefined && value.length > options.maxLength) {
        return `${name} must be at most ${options.maxLength} characters long`;
      }
      return undefined;
    });
  },
  address(): Field<string, false> {
    return field((value, name) =>
      typeof value === "string" && ADDRESS_PATTERN.test(value)
        ? undefined
        : `${name} must match the address pattern did:e:<host>:dids:<22 hex characters>`,
    );
  },
  id(prefix: IdPrefix): Field<string, false> {
    const pattern = idPattern(prefix);
    return field((value, name) =>
      typeof value === "string" && pattern.test(value)
        ? undefined
        : `${name} must be an id of ${prefix} and 17 characters of [A-Za-z0-9]`,
    );
  },
  number(options: { min?: number; integer?: boolean } = {}): Field<number, false> {
    return field((value, name) => {
      if (typeof value !== "number" || !Number.isFinite(value)) return `${name} must be a finite number`;
      if (options.integer === true && !Number.isInteger(value)) return `${name} must be an integer`;
      if (options.min !== undefined && value < options.min) return `${name} must be at least ${options.min}`;
      return undefined;
    });
  },
  isoDate(): Field<string, false> {
    return field((value, name) =>
      typeof value === "string" && !Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}T/.test(value)
        ? undefined
        : `${name} must be an ISO 8601 date-time string`,
    );
  },
  oneOf<T extends string>(allowed: readonly T[]): Field<T, false> {
    return field((value, name) =>
      allowed.includes(value as T) ? undefined : `${name} must be one of ${allowed.join(", ")}`,
    );
  },
  /** Any JSON value. */
  json(): Field<JsonValue, false> {
    return field((value, name) => whyNotJson(value, name));
  },
  /** A JSON object (not an array, not null). */
  jsonObject(): Field<JsonObject, false> {
    return field((value, name) =>
      isPlainObject(value) ? whyNotJson(value, name) : `${name} must be a JSON object`,
    );
  },
  array<T>(item: Field<T, false>, options: { minItems?: number } = {}): Field<T[], false> {
    return field((value, name) => {
      if (!Array.isArray(value)) return `${name} must be an array`;
      if (options.minItems !== undefined && value.length < options.minItems) {
        return `${name} must have at least ${options.minItems} item(s)`;
      }
      for (let index = 0; index < value.length; index++) {
        const problem = item.check(value[index], `${name}[${index}]`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    });
  },
  optional<T>(inner: Field<T, false>): Field<T, true> {
    return { optional: true, check: (value, name) => inner.check(value, name) };
  },
} as const;

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
 * with a message naming the property. Properties set to `undefined` count as absent.
 */
export function validateRequest<S extends Shape>(
  schema: RequestSchema<S>,
  request: unknown,
): Result<RequestOf<S>, RuntimeError> {
  if (request === undefined && schema.mayBeOmitted) return succeed({} as RequestOf<S>);
  if (!isPlainObject(request))
    return fail("error.runtime.validation.invalidPropertyValue", "request must be an object");
  for (const name of Object.keys(request)) {
    if (!Object.hasOwn(schema.shape, name) && request[name] !== undefined) {
      return fail("error.runtime.validation.invalidPropertyValue", `${name} is not a known property`);
    }
  }
  const valid: Record<string, unknown> = {};
  for (const [name, rule] of schema.fields) {
    const value = request[name];
    if (value === undefined) {
      if (rule.optional) continue;
      return fail("error.runtime.validation.invalidPropertyValue", `${name} is required`);
    }
    const problem = rule.check(value, name);
    if (problem !== undefined) return fail("error.runtime.validation.invalidPropertyValue", problem);
    valid[name] = value;
  }
  return succeed(valid as RequestOf<S>);
}
