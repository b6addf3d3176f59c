import { fail, succeed } from "../../core/errors.js";
import type { RuntimeResult } from "../../core/errors.js";
import type { Field } from "../../core/validation.js";
import type { QueryParameter, RouteQuery } from "./route.js";

/** One filter of a list route: its query parameter matches an item when the item has one of the given values. */
export interface ListFilter<T> {
  description: string;
  /** What each value must look like; a malformed one is a validation error naming the parameter. */
  rule?: Field<string, false>;
  /** The values the item has for this parameter (a message has several participants). */
  valuesOf(item: T): readonly (string | undefined)[];
}

/** A list route's filters, by query parameter. */
export type ListFilters<T> = Readonly<Record<string, ListFilter<T>>>;

/**
 * Whether an item matches the query: every parameter given, and for each any of its values (`status=Active&
 * status=Pending`). Checked before anything is read: a parameter the route does not know or a malformed value
 * is a validation error. Values match exactly; the Connector's operators (`!`, `<`, `~`) are not supported.
 */
export function listFilter<T>(
  query: RouteQuery,
  filters: ListFilters<T>,
): RuntimeResult<(item: T) => boolean> {
  const given: [ListFilter<T>, ReadonlySet<string>][] = [];
  for (const [name, values] of Object.entries(query)) {
    const filter = Object.hasOwn(filters, name) ? filters[name] : undefined;
    if (filter === undefined) {
      const known = Object.keys(filters);
      return fail(
        "error.runtime.validation.invalidPropertyValue",
        `${name} is not a query parameter of this route; ${known.length === 0 ? "it takes none" : `it takes ${known.join(", ")}`}`,
      );
    }
    for (const value of values) {
      const parsed = filter.rule?.parse(value, name);
      if (parsed !== undefined && "problem" in parsed)
        return fail("error.runtime.validation.invalidPropertyValue", parsed.problem);
    }
    given.push([filter, new Set(values)]);
  }
  return succeed((item) =>
    given.every(([filter, wanted]) =>
      filter.valuesOf(item).some((value) => value !== undefined && wanted.has(value)),
    ),
  );
}

/** How the OpenAPI document describes a list route's filters. */
export function filterParameters<T>(filters: ListFilters<T>): Record<string, QueryParameter> {
  return Object.fromEntries(
    Object.entries(filters).map(([name, { description }]) => [
      name,
      { description, required: false, repeatable: true },
    ]),
  );
}
