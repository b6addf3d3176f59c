import { ErrorCodes } from "../core/errors.js";
import { HttpErrorCodes } from "./errors.js";
import { API_PREFIX_LIST } from "./prefixes.js";
import { ROUTES } from "./routes/index.js";
import type { NotModelledRoute, ServedRoute } from "./routes/index.js";
import { COMPONENT_SCHEMAS } from "./routes/schemas.js";

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
      "IdentityMetadata, identity deletion, relationship templates, relationships, messages and requests of " +
      "the enmeshed runtime, with the routes, shapes and envelopes of the enmeshed Connector. Connector " +
      "features identity-runtime does not model answer 501. Every route needs the X-API-KEY header; " +
      "GET /health does not.",
    servers: API_PREFIX_LIST,
    key: { scheme: "apiKey", header: "X-API-KEY" },
    failures:
      "A failure: 400 malformed request or refused by a rule, 401 no or wrong API key, 404 not found, " +
      "405 wrong method, 409 state conflict, 413 body too large, 415 not JSON, 500 unexpected, " +
      "501 not modelled, 503 closed.",
    routes: ROUTES,
    schemas: COMPONENT_SCHEMAS,
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
      "/Events": {
        get: {
          operationId: "streamEvents",
          summary:
            "The identity's events as Server-Sent Events: `id` the seq, `event` the name, `data` `{ trigger, data }`. " +
            "Resumes after the `Last-Event-ID` header (or `after`), else starts with the next event; an " +
            "`eventsMissed` event tells when events to resume after were pruned.",
          parameters: [
            {
              name: "names",
              in: "query",
              required: false,
              description: "Only these events: names separated by commas.",
              schema: { type: "string" },
            },
            {
              name: "after",
              in: "query",
              required: false,
              description: "Resume after this seq (the Last-Event-ID header wins).",
              schema: { type: "integer", minimum: 0 },
            },
            {
              name: "Last-Event-ID",
              in: "header",
              required: false,
              description:
                "The seq of the last event the client got, as an EventSource sends it when reconnecting.",
              schema: { type: "string" },
            },
          ],
          responses: {
            "200": {
              description: "The stream, until the client or the server ends it.",
              content: { "text/event-stream": { schema: { type: "string" } } },
            },
            "400": { description: "An unknown event name or a malformed seq." },
            "501": { description: "The runtime keeps no event journal (`error.http.noEventJournal`)." },
          },
        },
      },
    },
  });
}

/** A route as a document describes it: all of it but what it runs. */
export type DescribedRoute = Omit<ServedRoute, "run">;

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
  routes: readonly (DescribedRoute | NotModelledRoute)[];
  /** Schemas the routes refer to by name (`#/components/schemas/…`), beside the error envelope's. */
  schemas?: Record<string, unknown>;
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
        ...api.schemas,
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

function operation(route: DescribedRoute | NotModelledRoute): Record<string, unknown> {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  if (route.notModelled !== undefined) {
    return {
      operationId: route.operationId,
      summary: route.summary,
      ...(pathParameters.length > 0 ? { parameters: pathParameters } : {}),
      responses: {
        "501": {
          ...ERROR_RESPONSE,
          description: `error.http.notImplemented: identity-runtime does not model ${route.notModelled}.`,
        },
      },
    };
  }
  const parameters = [
    ...Object.entries(route.query ?? {}).map(([name, { description, required, repeatable }]) => ({
      name,
      in: "query",
      required,
      description,
      // Given several times (form style, exploded: `peer=a&peer=b`), it matches any of its values.
      schema: repeatable === true ? { type: "array", items: { type: "string" } } : { type: "string" },
    })),
    ...pathParameters,
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
            // A body with required properties is required; one whose properties are all optional may be left out.
            required: Array.isArray(route.body["required"]) && route.body["required"].length > 0,
            content: { "application/json": { schema: route.body } },
          },
        }),
    responses: { [String(route.successStatus)]: success, default: ERROR_RESPONSE },
  };
}
