import { IDENTITY_DELETION_ROUTES } from "./identity-deletion.js";
import { IDENTITY_METADATA_ROUTES } from "./identity-metadata.js";
import type { Route } from "./route.js";

export type { HttpMethod, Route, RouteInput, RouteResult } from "./route.js";

/** Every route the handler serves, and so every path of the OpenAPI document: one list per capability. */
export const ROUTES: readonly Route[] = [...IDENTITY_METADATA_ROUTES, ...IDENTITY_DELETION_ROUTES];
