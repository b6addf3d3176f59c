import { ACCOUNT_ROUTES } from "./account.js";
import { IDENTITY_DELETION_ROUTES } from "./identity-deletion.js";
import { IDENTITY_METADATA_ROUTES } from "./identity-metadata.js";
import { MESSAGE_ROUTES } from "./messages.js";
import { NOT_MODELLED_ROUTES } from "./not-modelled.js";
import { RELATIONSHIP_TEMPLATE_ROUTES } from "./relationship-templates.js";
import { RELATIONSHIP_ROUTES } from "./relationships.js";
import { REQUEST_ROUTES } from "./requests.js";
import type { Route } from "./route.js";

export type { HttpMethod, NotModelledRoute, Route, RouteInput, RouteResult, ServedRoute } from "./route.js";

/** Every route the handler serves, and so every path of the OpenAPI document: one list per capability. */
export const ROUTES: readonly Route[] = [
  ...IDENTITY_METADATA_ROUTES,
  ...IDENTITY_DELETION_ROUTES,
  ...RELATIONSHIP_TEMPLATE_ROUTES,
  ...RELATIONSHIP_ROUTES,
  ...MESSAGE_ROUTES,
  ...REQUEST_ROUTES,
  ...ACCOUNT_ROUTES,
  ...NOT_MODELLED_ROUTES,
];
