/** The Connector routes beside IdentityMetadata and identity deletion, as the OpenAPI document lists them. */
export const CONNECTOR_OPERATIONS = [
  "post /RelationshipTemplates/Own",
  "get /RelationshipTemplates",
  "get /RelationshipTemplates/Own",
  "get /RelationshipTemplates/Peer",
  "post /RelationshipTemplates/Peer",
  "get /RelationshipTemplates/{id}",
  "put /Relationships/CanCreate",
  "post /Relationships",
  "get /Relationships",
  "get /Relationships/{id}",
  "put /Relationships/{id}/Accept",
  "put /Relationships/{id}/Reject",
  "put /Relationships/{id}/Revoke",
  "put /Relationships/{id}/Terminate",
  "delete /Relationships/{id}",
  "post /Messages",
  "get /Messages",
  "get /Messages/{id}",
  "post /Requests/Outgoing/Validate",
  "post /Requests/Outgoing",
  "get /Requests/Outgoing",
  "get /Requests/Outgoing/{id}",
  "get /Requests/Incoming",
  "get /Requests/Incoming/{id}",
  "put /Requests/Incoming/{id}/CanAccept",
  "put /Requests/Incoming/{id}/Accept",
  "put /Requests/Incoming/{id}/CanReject",
  "put /Requests/Incoming/{id}/Reject",
  "get /Account/IdentityInfo",
  "post /Account/Sync",
  "get /Account/SyncInfo",
  "get /Events",
] as const;

/** The paths of features not modelled: each, and every path below it, answers 501 to every method. */
export const NOT_MODELLED_PATHS = [
  "/Attributes",
  "/Files",
  "/Tokens",
  "/Challenges",
  "/Relationships/{id}/Attributes",
  "/Relationships/{id}/Reactivate",
  "/RelationshipTemplates/Own/{id}/Token",
  "/Messages/{id}/Attachments",
] as const;

export const NOT_MODELLED_METHODS = ["get", "put", "post", "delete", "patch"] as const;

export const NOT_MODELLED_OPERATIONS = NOT_MODELLED_PATHS.flatMap((path) =>
  NOT_MODELLED_METHODS.map((method) => `${method} ${path}`),
);
