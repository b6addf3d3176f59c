/** The paths below which the API is served: the Connector's current prefix and its older one. */
export const API_PREFIX_LIST = ["/api/v2", "/api/core/v1"] as const;
