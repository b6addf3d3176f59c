import { AssertionError } from "node:assert";
import type { ErrorCode, RuntimeError } from "../core/errors.js";
import type { Result } from "../core/result.js";

/**
 * What a failure's message must contain (a fragment) or match.
 * @example
 * assertErr(result, "error.runtime.recordNotFound", "Relationship");
 * assertErr(result, "error.runtime.recordNotFound", /^Relationship ".*" was not found/);
 */
export type MessagePattern = string | RegExp;

/**
 * The value of an Ok result; an `AssertionError` naming the error's code and message otherwise. Works with any
 * test runner (`node:test` among them).
 * @example
 * const template = assertOk(await runtime.relationships.createOwnRelationshipTemplate());
 */
export function assertOk<T>(result: Result<T, RuntimeError>): T {
  const problem = okProblem(result);
  if (problem !== undefined) throw new AssertionError({ message: problem, actual: describe(result) });
  return (result as { val: T }).val;
}

/**
 * The error of an Err result with the given code (and, if given, a message containing or matching
 * `message`); an `AssertionError` naming the expected and actual code otherwise.
 * @example
 * assertErr(await runtime.identityMetadata.getIdentityMetadata({ reference }), "error.runtime.identityMetadata.notFound");
 */
export function assertErr(
  result: Result<unknown, RuntimeError>,
  code: ErrorCode,
  message?: MessagePattern,
): RuntimeError {
  const problem = errProblem(result, code, message);
  if (problem !== undefined) {
    throw new AssertionError({ message: problem, actual: describe(result), expected: code });
  }
  return (result as { val: RuntimeError }).val;
}

/**
 * What jest and vitest give a matcher as `this` (the part these matchers use).
 * @inline
 */
interface MatcherContext {
  /** Whether the matcher runs negated, as in `expect(result).not.toBeOk()`. */
  isNot: boolean;
  /** The runner's deep equality, as `toEqual` compares. */
  equals(actual: unknown, expected: unknown): boolean;
}

/**
 * What a matcher answers to jest and vitest.
 * @inline
 */
interface MatcherResult {
  /** Whether the result is what the matcher expects. */
  pass: boolean;
  /** The failure's message, asked for only when the assertion fails. */
  message(): string;
}

/**
 * Matchers for `expect(result)` in jest and vitest: `toBeOk(value?)` and `toBeErr(code, message?)`. Their
 * failures say which code was expected and which code (and message) came, not an object dump. Register them
 * with `import "identity-runtime/testing/jest"` (or `/vitest`), which also declares their types, or by hand
 * with `expect.extend(resultMatchers)`.
 * @example
 * expect(await runtime.identityDeletion.getActiveIdentityDeletionProcess()).toBeErr(
 *   "error.runtime.identityDeletionProcess.noActiveIdentityDeletionProcess",
 * );
 */
export const resultMatchers = {
  /** The result is Ok (and, if a value is given, its value equals it, as `toEqual` compares). */
  toBeOk(this: MatcherContext, received: unknown, ...expected: [value?: unknown]): MatcherResult {
    const problem = okProblem(received, expected.length === 0 ? undefined : { value: expected[0] }, this);
    return {
      pass: problem === undefined,
      message: () =>
        problem ??
        `expected a result that is not Ok${expected.length === 0 ? "" : " with this value"}, got ${describe(received)}`,
    };
  },

  /** The result is an Err with this code (and a message that contains or matches `message`, if given). */
  toBeErr(this: MatcherContext, received: unknown, code: ErrorCode, message?: MessagePattern): MatcherResult {
    const problem = errProblem(received, code, message);
    return {
      pass: problem === undefined,
      message: () => problem ?? `expected a result other than Err ${code}, got ${describe(received)}`,
    };
  },
};

/**
 * The types of the matchers, for the declarations of `identity-runtime/testing/jest` and `/vitest`; `R` is what
 * the runner's matchers return.
 * @example
 * // What "identity-runtime/testing/vitest" declares:
 * declare module "vitest" {
 *   interface Matchers<T = any> extends ResultMatchers<T> {}
 * }
 */
export interface ResultMatchers<R> {
  /** The result is Ok (and, if a value is given, its value equals it, as `toEqual` compares). */
  toBeOk(value?: unknown): R;
  /** The result is an Err with this code (and a message that contains or matches `message`, if given). */
  toBeErr(code: ErrorCode, message?: MessagePattern): R;
}

/** Why `received` is not an Ok result (with `expected.value`, if given), or undefined when it is. */
function okProblem(
  received: unknown,
  expected?: { value: unknown },
  context?: MatcherContext,
): string | undefined {
  if (!isResult(received)) return `expected an Ok result, got ${describe(received)}`;
  if (!received.ok) return `expected an Ok result, got ${describe(received)}`;
  if (expected === undefined) return undefined;
  const equal = context?.equals(received.val, expected.value) ?? true;
  return equal ? undefined : `expected Ok ${json(expected.value)}, got Ok ${json(received.val)}`;
}

/** Why `received` is not an Err with `code` (and `message`), or undefined when it is. */
function errProblem(received: unknown, code: string, message?: MessagePattern): string | undefined {
  if (!isResult(received) || received.ok) return `expected Err ${code}, got ${describe(received)}`;
  const error = received.val as Partial<RuntimeError>;
  if (error.code !== code) return `expected Err ${code}, got ${describe(received)}`;
  if (message === undefined) return undefined;
  const text = String(error.message);
  const matches = typeof message === "string" ? text.includes(message) : message.test(text);
  return matches
    ? undefined
    : `expected Err ${code} with a message ${typeof message === "string" ? `containing ${json(message)}` : `matching ${String(message)}`}, got ${describe(received)}`;
}

function isResult(value: unknown): value is { ok: boolean; val: unknown } {
  return typeof value === "object" && value !== null && typeof (value as { ok?: unknown }).ok === "boolean";
}

/** A result as a line: `Ok <value>` or `Err <code>: <message>`; anything else as what it is. */
function describe(value: unknown): string {
  if (!isResult(value)) return `${json(value)} (not a Result)`;
  if (value.ok) return `Ok ${json(value.val)}`;
  const error = value.val as Partial<RuntimeError>;
  return typeof error.code === "string"
    ? `Err ${error.code}: ${String(error.message)}`
    : `Err ${json(error)}`;
}

function json(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}
