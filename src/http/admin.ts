import type { IncomingMessage, ServerResponse } from "node:http";
import type { AdminIdentityQuery, BackboneAdmin } from "../backbone/admin.js";
import type { RuntimeResult } from "../core/errors.js";
import { describeApi } from "./openapi.js";
import type { DescribedRoute } from "./openapi.js";
import { queryOf, singleValued } from "./request.js";
import { PROCESS } from "./routes/identity-deletion.js";
import type { RouteInput } from "./routes/index.js";
import { ADDRESS } from "./routes/schemas.js";
import {
  guarded,
  isSendableKey,
  keyCheck,
  pathBelow,
  routeFor,
  sendDocument,
  sendResult,
} from "./serving.js";
import type { RequestLogEntry } from "./serving.js";

/**
 * How `createAdminHandler` serves: the admin key it requires, and where it reports requests and failures.
 * @example
 * const options: AdminHandlerOptions = {
 *   adminKey: readFileSync("/run/secrets/admin-key", "utf8").trim(),
 *   onResponse: (entry) => console.log(JSON.stringify({ admin: true, ...entry })),
 * };
 * http.createServer(createAdminHandler(backbone.admin, options)).listen(8081, "127.0.0.1");
 */
export interface AdminHandlerOptions {
  /**
   * Required on every admin route, in the `X-ADMIN-KEY` header. Never the API key: check that with
   * `adminKeyProblem(adminKey, apiKey)` where both are known.
   */
  adminKey: string;
  /** Called once per request when its response is sent: the place for request (audit) logs. */
  onResponse?: (entry: RequestLogEntry) => void;
  /**
   * Told the cause of every 5xx answer (an unexpected exception, a storage failure), which the client never
   * sees; default: `console.error`.
   */
  onError?: (error: unknown, request: { method: string; path: string }) => void;
}

/** The prefix every admin route is served below; apart from the API's, so one server can mount both. */
const ADMIN_PREFIX = "/admin/v1";
const ADMIN_KEY_HEADER = "X-ADMIN-KEY";

/**
 * Why `adminKey` cannot guard the admin routes, or undefined when it can. It must be sendable in a header (as
 * `createAdminHandler` checks itself) and differ from the `apiKey` of an API served beside it: otherwise
 * whoever may call the API could start the deletion of any identity. Only whoever builds both handlers knows
 * both keys, so the check is theirs.
 * @example
 * const problem = adminKeyProblem(adminKey, apiKey);
 * if (problem !== undefined) throw new Error(problem);
 * const api = createHttpHandler(runtime, { apiKey });
 * const admin = createAdminHandler(backbone.admin, { adminKey });
 */
export function adminKeyProblem(adminKey: string, apiKey?: string): string | undefined {
  if (typeof adminKey !== "string" || !isSendableKey(adminKey)) {
    return `the admin key must be printable ASCII without spaces at either end: a client can send no other in ${ADMIN_KEY_HEADER}`;
  }
  if (adminKey === apiKey) {
    return "the admin key must differ from the API key: the API's clients must not reach the admin routes";
  }
  return undefined;
}

/** One admin route: as the API's routes, but run against the Backbone's Admin API. */
interface AdminRoute extends DescribedRoute {
  run(admin: BackboneAdmin, input: RouteInput): Promise<RuntimeResult<unknown>>;
}

const DATE_TIME = { type: "string", format: "date-time" };
const ADMIN_PROCESS = {
  ...PROCESS,
  required: [...PROCESS.required, "identityDeleted"],
  properties: { ...PROCESS.properties, identityDeleted: { type: "boolean" } },
};
const ADMIN_IDENTITY = {
  type: "object",
  required: ["address", "createdAt", "status"],
  properties: {
    address: ADDRESS,
    createdAt: DATE_TIME,
    status: { enum: ["Active", "ToBeDeleted", "Deleted"] },
    activeDeletionProcess: ADMIN_PROCESS,
  },
};

const ADMIN_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: "/Identities",
    operationId: "listIdentities",
    summary: "A page of the Backbone's identities, oldest first, each with where it stands in its deletion.",
    successStatus: 200,
    query: {
      search: { description: "Part of the address, compared ignoring case.", required: false },
      limit: { description: "How many identities a page holds, 1 to 100; default 20.", required: false },
      offset: { description: "How many matching identities to skip; default 0.", required: false },
    },
    result: {
      type: "object",
      required: ["items", "total", "limit", "offset"],
      properties: {
        items: { type: "array", items: ADMIN_IDENTITY },
        total: { type: "integer", minimum: 0 },
        limit: { type: "integer", minimum: 1, maximum: 100 },
        offset: { type: "integer", minimum: 0 },
      },
    },
    run: async (admin, { query }) => {
      const single = singleValued(query);
      return single.err ? single : admin.listIdentities(identityQueryOf(single.val));
    },
  },
  {
    method: "GET",
    path: "/Identities/{address}",
    operationId: "getIdentity",
    summary: "One identity with every deletion process it had, oldest first.",
    successStatus: 200,
    result: {
      ...ADMIN_IDENTITY,
      required: [...ADMIN_IDENTITY.required, "deletionProcesses"],
      properties: {
        ...ADMIN_IDENTITY.properties,
        deletionProcesses: { type: "array", items: ADMIN_PROCESS },
      },
    },
    run: (admin, { params }) => admin.getIdentity(params["address"] ?? ""),
  },
  {
    method: "POST",
    path: "/Identities/{address}/DeletionProcesses",
    operationId: "startIdentityDeletionProcess",
    summary:
      "Starts the identity's deletion on its behalf: a process WaitingForApproval, which the identity approves or rejects.",
    successStatus: 201,
    result: PROCESS,
    run: (admin, { params }) => admin.startIdentityDeletionProcess(params["address"] ?? ""),
  },
];

/**
 * The query of `GET /Identities` for `listIdentities`: `limit` and `offset` in decimal notation as numbers
 * (anything else stays text, which validation refuses by name), every other parameter as given, so an unknown
 * one is refused too.
 */
function identityQueryOf(query: Record<string, string>): AdminIdentityQuery {
  const parameters: Record<string, unknown> = { ...query };
  for (const name of ["limit", "offset"]) {
    const text = query[name];
    if (text !== undefined && /^-?\d+(?:\.\d+)?$/.test(text)) parameters[name] = Number(text);
  }
  return parameters;
}

/**
 * A plain `node:http` request handler serving the Backbone Admin API under `/admin/v1`, apart from the
 * runtime's API and with a key of its own in `X-ADMIN-KEY`: list and search identities, see one with its
 * deletion processes, start an identity's deletion (the Admin UI path of the enmeshed documentation). Throws
 * at once when `adminKey` cannot be sent in a header.
 * @example
 * const backbone = new LocalBackbone({ storage });
 * const adminKey = process.env.ADMIN_KEY!;
 * const problem = adminKeyProblem(adminKey, process.env.API_KEY);
 * if (problem !== undefined) throw new Error(problem);
 * http.createServer(createAdminHandler(backbone.admin, { adminKey })).listen(8081, "127.0.0.1");
 */
export function createAdminHandler(
  admin: BackboneAdmin,
  options: AdminHandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const problem = adminKeyProblem(options.adminKey);
  if (problem !== undefined) throw new TypeError(`createAdminHandler: ${problem}`);
  const checkKey = keyCheck(ADMIN_KEY_HEADER, options.adminKey);
  const document = JSON.stringify(
    describeApi({
      title: "identity-runtime Backbone Admin",
      description:
        "The Backbone Admin API: list and search identities, see their IdentityDeletionProcesses, and start an " +
        "identity's deletion on its behalf. Every route needs the X-ADMIN-KEY header (never the API key).",
      servers: [ADMIN_PREFIX],
      key: { scheme: "adminKey", header: ADMIN_KEY_HEADER },
      failures:
        "A failure: 400 malformed request, 401 no or wrong admin key, 404 not found, 405 wrong method, " +
        "409 state conflict, 500 unexpected, 503 closed or the storage failed.",
      routes: ADMIN_ROUTES,
      paths: {},
    }),
  );

  // Everything a request does runs inside this guard: it can only answer, never throw.
  return guarded(async (request, response, method, { path, search }, report) => {
    checkKey(request);
    const below = pathBelow([ADMIN_PREFIX], path);
    if (below === "/openapi.json") return sendDocument(response, method, path, document);
    // No admin route takes a body: one sent is never read.
    const { route, params } = routeFor(ADMIN_ROUTES, method, below, path);
    const result = await route.run(admin, { query: queryOf(search), body: undefined, params });
    sendResult(response, result, route.successStatus, report);
  }, options);
}
