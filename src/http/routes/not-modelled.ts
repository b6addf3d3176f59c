import { isPlainObject } from "../../core/json.js";
import { errWithoutStack, Ok } from "../../core/result.js";
import type { Err, Result } from "../../core/result.js";
import { httpFailure } from "../errors.js";
import type { HttpFailure } from "../errors.js";
import type { HttpMethod, NotModelledRoute } from "./route.js";

/** The answer to a request for a feature this library does not model: 501 `error.http.notImplemented`. */
export function notImplemented(feature: string): Err<HttpFailure> {
  return errWithoutStack(httpFailure("error.http.notImplemented", feature));
}

/**
 * The body without the Connector properties this library does not model (name → feature), or the 501 naming
 * the feature of the first one given. An absent property, or an empty list (no attachments), asks for
 * nothing. A body that is not an object is passed on as it is, for the use case's validation to refuse.
 */
export function withoutUnmodelled(
  body: unknown,
  unmodelled: Readonly<Record<string, string>>,
): Result<unknown, HttpFailure> {
  if (!isPlainObject(body)) return new Ok(body);
  // A copy by spreading keeps a `__proto__` property as data, for validation to refuse as unknown.
  const rest: Record<string, unknown> = { ...body };
  for (const [name, feature] of Object.entries(unmodelled)) {
    const value = rest[name];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) return notImplemented(feature);
    delete rest[name];
  }
  return new Ok(rest);
}

/** The Connector's paths of features not modelled, each with every path below it. */
const NOT_MODELLED_PATHS: readonly (readonly [path: string, feature: string])[] = [
  ["/Attributes", "attributes"],
  ["/Files", "files"],
  ["/Tokens", "tokens"],
  ["/Challenges", "challenges"],
  ["/Relationships/{id}/Attributes", "attributes"],
  ["/Relationships/{id}/Reactivate", "relationship reactivation"],
  ["/RelationshipTemplates/Own/{id}/Token", "tokens"],
  ["/Messages/{id}/Attachments", "message attachments (files)"],
];

const METHODS: readonly HttpMethod[] = ["GET", "PUT", "POST", "DELETE", "PATCH"];

/** `/Relationships/{id}/Reactivate` → `RelationshipsIdReactivate`. */
function pascalOf(path: string): string {
  return path
    .split("/")
    .map((segment) => segment.replace(/[{}]/g, ""))
    .map((segment) => segment.charAt(0).toUpperCase() + segment.slice(1))
    .join("");
}

/** Every method on every path of a feature not modelled answers 501, never a 404 that looks like a typo. */
export const NOT_MODELLED_ROUTES: readonly NotModelledRoute[] = NOT_MODELLED_PATHS.flatMap(
  ([path, feature]) =>
    METHODS.map((method) => ({
      method,
      path,
      operationId: `${method.toLowerCase()}${pascalOf(path)}NotModelled`,
      summary: `Not modelled (${feature}): this path and every path below it answer 501 error.http.notImplemented.`,
      notModelled: feature,
    })),
);
