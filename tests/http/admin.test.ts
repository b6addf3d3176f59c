import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  adminKeyProblem,
  createAdminHandler,
  LocalBackbone,
  lokiStorage,
  StorageFailure,
} from "../../src/index";
import type {
  AdminHandlerOptions,
  AdminIdentity,
  AdminIdentityDetails,
  AdminIdentityPage,
  BackboneAdmin,
  IdentityDeletionProcessDTO,
  RequestLogEntry,
} from "../../src/index";
import { CODE, delegating, ok, START, UNKNOWN_ADDRESS, world } from "../support";
import type { World } from "../support";
import { API_KEY, call, expectError, ODD_TARGETS, query, rawRequest, resultOf, serve } from "./client";
import type { Answer, CallOptions } from "./client";

const ADMIN_KEY = "admin-test-key";
const DAY = 86_400_000;
const at = (ms: number): string => new Date(START.getTime() + ms).toISOString();
const IDENTITIES = "/admin/v1/Identities";

let w: World;
const servers: Server[] = [];

beforeEach(() => {
  w = world();
});

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
  await w.close();
});

interface AdminServed {
  url: string;
  /** A request with the admin key in X-ADMIN-KEY, or `key` there instead (`null`: no X-ADMIN-KEY at all). */
  call(
    method: string,
    path: string,
    options?: Omit<CallOptions, "key"> & { key?: string | null },
  ): Promise<Answer>;
}

/** The admin handler of `admin` (default: the world's Backbone) on 127.0.0.1 and a free port, closed after the test. */
async function servedAdmin(
  options: Partial<AdminHandlerOptions> = {},
  admin: BackboneAdmin = w.backbone.admin,
): Promise<AdminServed> {
  const server = createServer(createAdminHandler(admin, { adminKey: ADMIN_KEY, ...options }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    call: (method, path, { key = ADMIN_KEY, headers = {}, ...rest } = {}) =>
      call(url, method, path, {
        ...rest,
        key: null,
        headers: { ...(key === null ? {} : { "x-admin-key": key }), ...headers },
      }),
  };
}

const identityPath = (address: string): string => `${IDENTITIES}/${encodeURIComponent(address)}`;
const startPath = (address: string): string => `${identityPath(address)}/DeletionProcesses`;

describe("listing and searching identities", () => {
  test("GET /Identities: a page of every identity, oldest first, in the success envelope", async () => {
    const first = await w.runtime();
    w.clock.advance({ ms: 1 });
    const second = await w.runtime();
    const admin = await servedAdmin();
    expect(resultOf<AdminIdentityPage>(await admin.call("GET", IDENTITIES))).toStrictEqual({
      items: [
        { address: first.address, createdAt: at(0), status: "Active" },
        { address: second.address, createdAt: at(1), status: "Active" },
      ],
      total: 2,
      limit: 20,
      offset: 0,
    });
  });

  test("search (ignoring case) and paging through the query", async () => {
    const made: string[] = [];
    for (let index = 0; index < 5; index++) {
      made.push(await w.backbone.createIdentity());
      w.clock.advance({ ms: 1 });
    }
    const admin = await servedAdmin();
    // Encoded as a form would be: the colons of an address as %3A.
    const get = async (pairs: [string, string][]) =>
      resultOf<AdminIdentityPage>(await admin.call("GET", `${IDENTITIES}${query(...pairs)}`));
    const addresses = (found: AdminIdentityPage) => found.items.map((item: AdminIdentity) => item.address);

    const target = made[3] as string;
    expect(addresses(await get([["search", target.slice(-7).toUpperCase()]]))).toStrictEqual([target]);
    expect(addresses(await get([["search", target]]))).toStrictEqual([target]);
    const second = await get([
      ["limit", "2"],
      ["offset", "2"],
    ]);
    expect(second).toMatchObject({ total: 5, limit: 2, offset: 2 });
    expect(addresses(second)).toStrictEqual(made.slice(2, 4));
    expect(await get([["search", "did:e:elsewhere"]])).toStrictEqual({
      items: [],
      total: 0,
      limit: 20,
      offset: 0,
    });
  });

  test.each<[string, string]>([
    ["limit", "?limit=0"],
    ["limit", "?limit=101"],
    ["limit", "?limit=abc"],
    ["limit", "?limit=1.5"],
    ["limit", "?limit="],
    ["offset", "?offset=-1"],
    ["offset", "?offset=0x10"],
    ["sort", "?sort=address"],
    ["search", "?search=a&search=b"],
  ])("%s in %s: 400 invalidPropertyValue naming it", async (named, search) => {
    const admin = await servedAdmin();
    const error = expectError(
      await admin.call("GET", `${IDENTITIES}${search}`),
      400,
      CODE.invalidPropertyValue,
    );
    expect(error.message).toContain(named);
  });
});

describe("starting an identity's deletion", () => {
  test("POST → 201 WaitingForApproval; the runtime sees it; approved there, the admin route shows Approved", async () => {
    const rt = await w.runtime();
    const admin = await servedAdmin();
    w.clock.advance({ hours: 1 });
    const started = resultOf<IdentityDeletionProcessDTO>(
      await admin.call("POST", startPath(rt.address)),
      201,
    );
    expect(started).toStrictEqual({
      id: started.id,
      status: "WaitingForApproval",
      createdAt: at(3_600_000),
      approvalPeriodEndsAt: at(3_600_000 + 7 * DAY),
    });
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(started);

    w.clock.advance({ days: 1 });
    const approved = ok(await rt.identityDeletion.approveIdentityDeletionProcess());
    expect(approved.gracePeriodEndsAt).toBe(at(3_600_000 + 15 * DAY));
    const shown = { ...approved, identityDeleted: false };
    expect(resultOf<AdminIdentityDetails>(await admin.call("GET", identityPath(rt.address)))).toStrictEqual({
      address: rt.address,
      createdAt: at(0),
      status: "ToBeDeleted",
      activeDeletionProcess: shown,
      deletionProcesses: [shown],
    });
    expect(resultOf<AdminIdentityPage>(await admin.call("GET", IDENTITIES)).items).toStrictEqual([
      { address: rt.address, createdAt: at(0), status: "ToBeDeleted", activeDeletionProcess: shown },
    ]);
  });

  test("the address may stand in the path with its colons as they are", async () => {
    const rt = await w.runtime();
    const admin = await servedAdmin();
    const path = `${IDENTITIES}/${rt.address}`;
    expect(resultOf<AdminIdentityDetails>(await admin.call("GET", path)).address).toBe(rt.address);
    expect(
      resultOf<IdentityDeletionProcessDTO>(await admin.call("POST", `${path}/DeletionProcesses`), 201).status,
    ).toBe("WaitingForApproval");
  });

  test("a second start: 409 activeIdentityDeletionProcessAlreadyExists, the first process untouched", async () => {
    const rt = await w.runtime();
    const admin = await servedAdmin();
    const started = resultOf<IdentityDeletionProcessDTO>(
      await admin.call("POST", startPath(rt.address)),
      201,
    );
    expectError(
      await admin.call("POST", startPath(rt.address)),
      409,
      CODE.activeIdentityDeletionProcessAlreadyExists,
    );
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([started]);
  });

  test("a deleted identity: 409 (its Approved process stays the active one), shown as Deleted", async () => {
    const rt = await w.runtime();
    ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    w.clock.advance({ days: 14, ms: 1 });
    const admin = await servedAdmin();
    expectError(
      await admin.call("POST", startPath(rt.address)),
      409,
      CODE.activeIdentityDeletionProcessAlreadyExists,
    );
    const identity = resultOf<AdminIdentityDetails>(await admin.call("GET", identityPath(rt.address)));
    expect(identity.status).toBe("Deleted");
    expect(identity.activeDeletionProcess?.identityDeleted).toBe(true);
  });

  test.each<[string, number, string]>([
    ["did:e:localhost:dids:XYZ", 400, CODE.invalidPropertyValue],
    ["not-an-address", 400, CODE.invalidPropertyValue],
    [UNKNOWN_ADDRESS, 404, CODE.recordNotFound],
  ])("%s: %d on GET and POST", async (address, status, code) => {
    const admin = await servedAdmin();
    expectError(await admin.call("GET", identityPath(address)), status, code);
    expectError(await admin.call("POST", startPath(address)), status, code);
  });

  test("broken percent-encoding of the address: 400", async () => {
    const admin = await servedAdmin();
    expectError(await admin.call("GET", `${IDENTITIES}/did%ZZ`), 400, CODE.invalidPropertyValue);
  });
});

describe("the admin key", () => {
  test.each<[string, string | null]>([
    ["no X-ADMIN-KEY", null],
    ["a wrong key", "wrong"],
    ["the key with a character more", `${ADMIN_KEY}-`],
    ["the key in another case", ADMIN_KEY.toUpperCase()],
    ["the API key", API_KEY],
  ])("%s: 401 on every route, the unknown ones too, and nothing started", async (_name, key) => {
    const rt = await w.runtime();
    const admin = await servedAdmin();
    for (const [method, path] of [
      ["GET", IDENTITIES],
      ["GET", identityPath(rt.address)],
      ["POST", startPath(rt.address)],
      ["GET", "/admin/v1/openapi.json"],
      ["GET", "/admin/v1/Nope"],
      ["GET", "/api/v2/IdentityMetadata"],
    ] as const) {
      const error = expectError(await admin.call(method, path, { key }), 401, "error.http.unauthorized");
      expect(error.message).toContain("X-ADMIN-KEY");
    }
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([]);
  });

  test("the admin key in X-API-KEY: 401", async () => {
    const admin = await servedAdmin();
    const answer = await call(admin.url, "GET", IDENTITIES, { key: ADMIN_KEY });
    expectError(answer, 401, "error.http.unauthorized");
  });

  test("the API handler does not accept the admin key, nor serve the admin routes", async () => {
    const rt = await w.runtime();
    const api = await serve(rt);
    try {
      expectError(
        await api.call("GET", "/api/v2/IdentityDeletionProcesses", { key: ADMIN_KEY }),
        401,
        "error.http.unauthorized",
      );
      expectError(await api.call("GET", IDENTITIES), 404, "error.http.routeNotFound");
    } finally {
      await api.close();
    }
  });

  test("adminKeyProblem refuses the API key as admin key; createAdminHandler refuses keys no header can carry", () => {
    expect(adminKeyProblem(ADMIN_KEY, API_KEY)).toBeUndefined();
    expect(adminKeyProblem(ADMIN_KEY)).toBeUndefined();
    expect(adminKeyProblem(API_KEY, API_KEY)).toContain("differ from the API key");
    for (const adminKey of ["", " padded", "padded ", "line\nbreak", "ümlaut", 42 as unknown as string]) {
      expect(adminKeyProblem(adminKey)).toContain("printable ASCII");
      expect(() => createAdminHandler(w.backbone.admin, { adminKey })).toThrow(TypeError);
    }
  });
});

describe("hardening", () => {
  test("methods: 405 with Allow; HEAD is GET without a body; unknown routes 404", async () => {
    const rt = await w.runtime();
    const admin = await servedAdmin();
    for (const [method, path, allow] of [
      ["PUT", IDENTITIES, "GET"],
      ["DELETE", identityPath(rt.address), "GET"],
      ["GET", startPath(rt.address), "POST"],
      ["POST", "/admin/v1/openapi.json", "GET"],
    ] as const) {
      const answer = await admin.call(method, path);
      expectError(answer, 405, "error.http.methodNotAllowed");
      expect(answer.headers.get("allow")).toBe(allow);
    }
    const head = await admin.call("HEAD", IDENTITIES);
    expect([head.status, head.text]).toStrictEqual([200, ""]);
    expectError(await admin.call("GET", "/admin/v1/Nope"), 404, "error.http.routeNotFound");
    expectError(await admin.call("GET", "/admin/v1"), 404, "error.http.routeNotFound");
    expectError(await admin.call("GET", "/api/v2/IdentityMetadata"), 404, "error.http.routeNotFound");
  });

  test("a body sent to the start route is never read: the route answers as without one", async () => {
    const rt = await w.runtime();
    const admin = await servedAdmin();
    const answer = await admin.call("POST", startPath(rt.address), {
      raw: "{ not json",
      headers: { "content-type": "text/plain" },
    });
    expect(resultOf<IdentityDeletionProcessDTO>(answer, 201).status).toBe("WaitingForApproval");
  });

  test.each(ODD_TARGETS)(
    "GET %s: an answer (400 or 401 without a key), and the server goes on",
    async (target) => {
      const admin = await servedAdmin();
      const answer = await rawRequest(admin.url, `GET ${target} HTTP/1.1\r\nhost: localhost`);
      expect([400, 401]).toContain(answer.status);
      resultOf(await admin.call("GET", IDENTITIES));
    },
  );

  test.each(["http://[/", "*"])(
    "a target that is not a path (%s): 400 invalidRequestTarget",
    async (target) => {
      const admin = await servedAdmin();
      const answer = await rawRequest(admin.url, `GET ${target} HTTP/1.1\r\nhost: localhost`);
      expect(answer.status).toBe(400);
      expect(answer.text).toContain("error.http.invalidRequestTarget");
      resultOf(await admin.call("GET", IDENTITIES));
    },
  );

  test("an exception of the Backbone: 500 with no detail; the cause goes to onError; the log has the request", async () => {
    const errors: unknown[] = [];
    const logged: RequestLogEntry[] = [];
    const cause = new Error("at /secret/path");
    const failing: BackboneAdmin = { ...w.backbone.admin, listIdentities: () => Promise.reject(cause) };
    const admin = await servedAdmin(
      { onError: (error) => errors.push(error), onResponse: (entry) => logged.push(entry) },
      failing,
    );
    const answer = await admin.call("GET", IDENTITIES);
    expectError(answer, 500, "error.runtime.unknown");
    expect(answer.text).not.toContain("secret");
    expect(errors).toStrictEqual([cause]);
    expect(logged).toMatchObject([{ method: "GET", path: IDENTITIES, status: 500 }]);
  });

  test("a failing storage: 503 error.runtime.storage, its detail for onError only; a closed Backbone: 503", async () => {
    const errors: unknown[] = [];
    const failure = new StorageFailure("connection to 10.0.0.7 refused");
    const storage = delegating(lokiStorage(), () => ({ list: () => Promise.reject(failure) }));
    const backbone = new LocalBackbone({ storage, clock: w.clock });
    try {
      const admin = await servedAdmin({ onError: (error) => errors.push(error) }, backbone.admin);
      const answer = await admin.call("GET", IDENTITIES);
      expectError(answer, 503, "error.runtime.storage");
      expect(answer.text).not.toContain("10.0.0.7");
      expect(errors).toStrictEqual([failure]);
    } finally {
      await backbone.close();
      await storage.close();
    }
    const closed = await servedAdmin();
    await w.backbone.close();
    expectError(await closed.call("GET", IDENTITIES), 503, CODE.runtimeClosed);
  });
});

describe("OpenAPI document", () => {
  interface Document {
    openapi: string;
    servers: { url: string }[];
    paths: Record<string, Record<string, unknown>>;
    components: { securitySchemes: Record<string, { in: string; name: string }> };
  }

  test("GET /admin/v1/openapi.json: the operations served, below /admin/v1, with the X-ADMIN-KEY scheme", async () => {
    const admin = await servedAdmin();
    const document = resultless<Document>(await admin.call("GET", "/admin/v1/openapi.json"));
    expect(document.openapi).toBe("3.1.0");
    expect(document.servers).toStrictEqual([{ url: "/admin/v1" }]);
    expect(Object.values(document.components.securitySchemes)).toStrictEqual([
      { type: "apiKey", in: "header", name: "X-ADMIN-KEY" },
    ]);
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method} ${path}`),
    );
    expect(operations.sort()).toStrictEqual(
      [
        "get /Identities",
        "get /Identities/{address}",
        "post /Identities/{address}/DeletionProcesses",
        "get /openapi.json",
      ].sort(),
    );
  });
});

/** The body of a 200 answer that is no envelope (the OpenAPI document). */
function resultless<T>(answer: Answer): T {
  expect(answer.status).toBe(200);
  expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
  return answer.body as T;
}
