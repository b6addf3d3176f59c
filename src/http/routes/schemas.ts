// JSON schemas the OpenAPI document shares between route families.
import type { IdPrefix } from "../../core/ids.js";

export const ADDRESS = { type: "string", pattern: "^did:e:[a-z0-9.-]+:dids:[0-9a-f]{22}$" };
export const JSON_VALUE = { description: "Any JSON value: string, number, boolean, null, array or object." };

export function idOf(prefix: IdPrefix): Record<string, unknown> {
  return { type: "string", pattern: `^${prefix}[A-Za-z0-9]{17}$` };
}
