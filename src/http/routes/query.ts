import { fail, succeed } from "../../core/errors.js";
import type { RuntimeResult } from "../../core/errors.js";
import type { RouteQuery } from "./route.js";

/**
 * The query with one value per parameter, for routes where a second value is a mistake (an IdentityMetadata
 * slot has one reference and one key). Every parameter is passed on, so the use case's validation names an
 * unknown one.
 */
export function singleValued(query: RouteQuery): RuntimeResult<Record<string, string>> {
  const entries = Object.entries(query);
  const repeated = entries.find(([, values]) => values.length > 1);
  if (repeated !== undefined)
    return fail("error.runtime.validation.invalidPropertyValue", `${repeated[0]} must be given once`);
  // fromEntries defines data properties: a `__proto__` parameter stays one, which validation refuses as unknown.
  return succeed(Object.fromEntries(entries.map(([name, values]) => [name, values[0] as string])));
}
