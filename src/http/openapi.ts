import { ErrorCodes } from "../core/errors.js";
import { HttpErrorCodes } from "./errors.js";
import { API_PREFIX_LIST } from "./prefixes.js";
import { ROUTES } from "./routes.js";
import type { Route } from "./routes.js";

const ERROR_RESPONSE = { $ref: "#/components/responses/Error" };

function healthContent(isHealthy: boolean): Record<string, unknown> {
  return {
    "application/json": {
      schema: { type: "object", required: ["isHealthy"], properties: { isHealthy: { const: isHealthy } } },
    },
  };
}

/**
 * The OpenAPI 3.1 document of the HTTP API, made from the same route table the handler serves (which also
 * serves it at `/api/v2/openapi.json`).
 * @example
 * writeFileSync("openapi.json", JSON.stringify(openApiDocument(), null, 2));
 */
export function openApiDocument(): Record<string, unknown> {
  return describeApi({
    title: "identity-runtime",
    description:
      "IdentityMetadata and identity deletion of the enmeshed runtime, with the routes and envelopes of the " +
      "enmeshed Connector. Every route needs the X-API-KEY header; GET /health does not.",
    servers: API_PREFIX_LIST,
    key: { scheme: "apiKey", header: "X-API-KEY" },
    failures:
      "A failure: 400 malformed request or refused by a rule, 401 no or wrong API key, 404 not found, " +
      "405 wrong method, 409 state conflict, 413 body too large, 415 not JSON, 500 unexpected, 503 closed.",
    routes: ROUTES,
    paths: {
      "/health": {
        // Served at the root, not below the API prefixes, and open to all.
        servers: [{ url: "/" }],
        get: {
          operationId: "getHealth",
          summary: "Whether the server is up and its storage answers; needs no API key.",
          security: [],
          responses: {
            "200": { description: "Up, and the storage answers.", content: healthContent(true) },
            "503": { description: "Up, but the storage does not answer.", content: healthContent(false) },
          },
        },
      },
    },
  });
}

/** A route as a document describes it: all of it but what it runs. */
export type DescribedRoute = Omit<Route, "run">;

/** What sets one served API's document apart from another's. */
export interface ApiDescription {
  title: string;
  description: string;
  /** The prefixes the routes are served below. */
  servers: readonly string[];
  /** The header every operation needs a key in, and the name of its security scheme. */
  key: { scheme: string; header: string };
  /** What a failure may answer, in a sentence. */
  failures: string;
  routes: readonly DescribedRoute[];
  /** Paths besides the routes' and `/openapi.json`. */
  paths: Record<string, Record<string, unknown>>;
}

/** The OpenAPI 3.1 document of an API: its routes, its other paths, `/openapi.json`, and the error envelope. */
export function describeApi(api: ApiDescription): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of api.routes) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation(route) };
  }
  Object.assign(paths, api.paths);
  paths["/openapi.json"] = {
    get: {
      operationId: "getOpenApiDocument",
      summary: "This document.",
      responses: { "200": { description: "The OpenAPI document.", content: { "application/json": {} } } },
    },
  };
  return {
    openapi: "3.1.0",
    info: { title: api.title, version: "0.1.0", description: api.description },
    servers: api.servers.map((url) => ({ url })),
    security: [{ [api.key.scheme]: [] }],
    paths,
    components: {
      securitySchemes: { [api.key.scheme]: { type: "apiKey", in: "header", name: api.key.header } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["id", "code", "message", "docs", "time"],
              properties: {
                id: { type: "string", pattern: "^ERR[A-Za-z0-9]{17}$" },
                code: { enum: [...ErrorCodes, ...HttpErrorCodes] },
                message: { type: "string" },
                docs: { type: "string", format: "uri" },
                time: { type: "string", format: "date-time" },
              },
            },
          },
        },
      },
      responses: {
        Error: {
          description: api.failures,
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
    },
  };
}

function operation(route: DescribedRoute): Record<string, unknown> {
  const parameters = [
    ...Object.entries(route.query ?? {}).map(([name, { description, required }]) => ({
      name,
      in: "query",
      required,
      description,
      schema: { type: "string" },
    })),
    ...[...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: "path",
      required: true,
      schema: { type: "string" },
    })),
  ];
  const success =
    route.successStatus === 204
      ? { description: "Done." }
      : {
          description: "Done.",
          content: {
            "application/json": {
              schema: { type: "object", required: ["result"], properties: { result: route.result ?? {} } },
            },
          },
        };
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: route.method === "PUT",
            content: { "application/json": { schema: route.body } },
          },
        }),
    responses: { [String(route.successStatus)]: success, default: ERROR_RESPONSE },
  };
}
