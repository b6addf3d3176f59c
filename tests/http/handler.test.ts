import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import {
  createHttpHandler,
  createRuntime,
  lokiStorage,
  MAX_IDENTITY_METADATA_KEY_LENGTH,
  MAX_JSON_DEPTH,
  StorageFailure,
} from "../../src/index";
import type {
  HttpErrorBody,
  IdentityDeletionProcessDTO,
  IdentityMetadataDTO,
  Runtime,
  StorageAdapter,
} from "../../src/index";
import { CODE, delegating, ok, sleep, slowStorage, START, UNKNOWN_ADDRESS, world } from "../support";
import type { World } from "../support";
import { API_KEY, expectError, ODD_TARGETS, query, rawRequest, resultOf, serve } from "./client";
import type { Answer, CallOptions, Served } from "./client";
import { CONNECTOR_OPERATIONS, NOT_MODELLED_OPERATIONS } from "./connector-operations";

const PREFIXES = ["/api/v2", "/api/core/v1"] as const;
const IDM_ID = /^IDM[A-Za-z0-9]{17}$/;
const IDP_ID = /^IDP[A-Za-z0-9]{17}$/;
const WELL_FORMED_UNKNOWN_IDP = "IDPaaaaaaaaaaaaaaaaa";
const DAY = 86_400_000;
const at = (ms: number): string => new Date(START.getTime() + ms).toISOString();

let w: World;
const servers: Served[] = [];
const ownRuntimes: Runtime[] = [];

beforeEach(() => {
  w = world();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(ownRuntimes.splice(0).map((runtime) => runtime.close()));
  await w.close();
});

/** `runtime` served over HTTP, closed after the test. */
async function served(runtime: Runtime, options: Parameters<typeof serve>[1] = {}): Promise<Served> {
  const api = await serve(runtime, options);
  servers.push(api);
  return api;
}

/** A runtime with an Active relationship to a peer, served over HTTP. */
async function connected(options: Parameters<typeof serve>[1] = {}) {
  const { a, b } = await w.connected();
  return { api: await served(a, options), rt: a, peer: b.address };
}

/** Sends a raw JSON text (not re-serialized, so `__proto__` keys stay as written). */
function rawJson(text: string): CallOptions {
  return { raw: text, headers: { "content-type": "application/json" } };
}

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(Buffer.from(chunk));
      controller.close();
    },
  });
}

/** Asserts that the (reference, key) slot is empty over HTTP. */
async function expectEmptySlot(api: Served, reference: string, key?: string): Promise<void> {
  const pairs: [string, string][] = [["reference", reference]];
  if (key !== undefined) pairs.push(["key", key]);
  expectError(
    await api.call("GET", `/api/v2/IdentityMetadata${query(...pairs)}`),
    404,
    CODE.identityMetadataNotFound,
  );
}

describe.each(PREFIXES)("IdentityMetadata routes under %s (Connector compatibility)", (prefix) => {
  const path = `${prefix}/IdentityMetadata`;

  test("PUT creates (200 with { result }), PUT again updates (200, same id), GET reads, DELETE answers 204 with no body", async () => {
    const { api, peer } = await connected();
    const created = await api.call("PUT", path, {
      json: { reference: peer, key: "crm", value: { customerId: 42 } },
    });
    const dto = resultOf<IdentityMetadataDTO>(created, 200);
    expect(dto.id).toMatch(IDM_ID);
    expect(dto).toStrictEqual({ id: dto.id, reference: peer, key: "crm", value: { customerId: 42 } });

    const updated = resultOf<IdentityMetadataDTO>(
      await api.call("PUT", path, { json: { reference: peer, key: "crm", value: ["replaced", null] } }),
      200,
    );
    expect(updated).toStrictEqual({ id: dto.id, reference: peer, key: "crm", value: ["replaced", null] });

    const slot = query(["reference", peer], ["key", "crm"]);
    expect(resultOf<IdentityMetadataDTO>(await api.call("GET", `${path}${slot}`), 200)).toStrictEqual(
      updated,
    );

    const deleted = await api.call("DELETE", `${path}${slot}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");

    expectError(await api.call("GET", `${path}${slot}`), 404, CODE.identityMetadataNotFound);
  });

  test("a record without a key has no key property in the result", async () => {
    const { api, peer } = await connected();
    const dto = resultOf<IdentityMetadataDTO>(
      await api.call("PUT", path, { json: { reference: peer, value: 1 } }),
    );
    expect(Object.keys(dto).sort()).toEqual(["id", "reference", "value"]);
    expect(
      resultOf<IdentityMetadataDTO>(await api.call("GET", `${path}${query(["reference", peer])}`)),
    ).toStrictEqual(dto);
  });

  test("`?key=` addresses the empty-string key and no key parameter the no-key slot: two records", async () => {
    const { api, peer } = await connected();
    const none = resultOf<IdentityMetadataDTO>(
      await api.call("PUT", path, { json: { reference: peer, value: "no key" } }),
    );
    const empty = resultOf<IdentityMetadataDTO>(
      await api.call("PUT", path, { json: { reference: peer, key: "", value: "empty key" } }),
    );
    expect(empty.id).not.toBe(none.id);
    expect(empty.key).toBe("");

    const encodedPeer = encodeURIComponent(peer);
    expect(
      resultOf<IdentityMetadataDTO>(await api.call("GET", `${path}?reference=${encodedPeer}`)),
    ).toStrictEqual(none);
    expect(
      resultOf<IdentityMetadataDTO>(await api.call("GET", `${path}?reference=${encodedPeer}&key=`)),
    ).toStrictEqual(empty);

    // Deleting `?key=` leaves the no-key record; deleting without key leaves nothing.
    expect((await api.call("DELETE", `${path}?reference=${encodedPeer}&key=`)).status).toBe(204);
    expectError(
      await api.call("GET", `${path}?reference=${encodedPeer}&key=`),
      404,
      CODE.identityMetadataNotFound,
    );
    expect(resultOf<IdentityMetadataDTO>(await api.call("GET", `${path}?reference=${encodedPeer}`)).id).toBe(
      none.id,
    );
    expect((await api.call("DELETE", `${path}?reference=${encodedPeer}`)).status).toBe(204);
    expectError(
      await api.call("GET", `${path}?reference=${encodedPeer}`),
      404,
      CODE.identityMetadataNotFound,
    );
  });

  test("GET and DELETE of a missing slot: 404 notFound in the error envelope, nothing else at the top level", async () => {
    const { api, peer } = await connected();
    // A keyed record must not answer for the no-key slot.
    resultOf(await api.call("PUT", path, { json: { reference: peer, key: "k", value: 1 } }));
    for (const slot of [query(["reference", peer]), query(["reference", peer], ["key", "other"])]) {
      const error = expectError(await api.call("GET", `${path}${slot}`), 404, CODE.identityMetadataNotFound);
      expect(error.message).toContain(peer);
      expectError(await api.call("DELETE", `${path}${slot}`), 404, CODE.identityMetadataNotFound);
    }
  });

  test("the own address is familiar too", async () => {
    const { api, rt } = await connected();
    const dto = resultOf<IdentityMetadataDTO>(
      await api.call("PUT", path, { json: { reference: rt.address, value: "own" } }),
    );
    expect(dto.reference).toBe(rt.address);
  });
});

test("both prefixes serve the same records", async () => {
  const { api, peer } = await connected();
  const created = resultOf<IdentityMetadataDTO>(
    await api.call("PUT", "/api/v2/IdentityMetadata", { json: { reference: peer, value: 1 } }),
  );
  expect(
    resultOf<IdentityMetadataDTO>(
      await api.call("GET", `/api/core/v1/IdentityMetadata${query(["reference", peer])}`),
    ),
  ).toStrictEqual(created);
});

test("a JSON content type with parameters (charset) is accepted", async () => {
  const { api, peer } = await connected();
  const answer = await api.call("PUT", "/api/v2/IdentityMetadata", {
    raw: JSON.stringify({ reference: peer, value: "ü" }),
    headers: { "content-type": "application/json; charset=utf-8" },
  });
  expect(resultOf<IdentityMetadataDTO>(answer).value).toBe("ü");
});

describe("validation: 400 invalidPropertyValue, nothing stored", () => {
  const path = "/api/v2/IdentityMetadata";

  test.each<[string, (peer: string) => unknown]>([
    ["a malformed reference", () => ({ reference: "did:e:localhost:dids:nothex", value: 1 })],
    ["a reference that is not a string", () => ({ reference: 7, value: 1 })],
    ["a key that is a JSON number", (peer) => ({ reference: peer, key: 5, value: 1 })],
    ["a key that is null", (peer) => ({ reference: peer, key: null, value: 1 })],
    ["a missing value", (peer) => ({ reference: peer })],
    ["a missing reference", () => ({ value: 1 })],
    ["an unknown property", (peer) => ({ reference: peer, value: 1, extra: true })],
    ["a body that is an array", (peer) => [{ reference: peer, value: 1 }]],
    ["a body that is a string", () => "text"],
    ["a body that is null", () => null],
  ])("PUT with %s", async (_name, body) => {
    const { api, peer } = await connected();
    const answer =
      body(peer) === null
        ? await api.call("PUT", path, rawJson("null"))
        : await api.call("PUT", path, { json: body(peer) });
    expectError(answer, 400, CODE.invalidPropertyValue);
    await expectEmptySlot(api, peer);
  });

  test("PUT without a body", async () => {
    const { api, peer } = await connected();
    expectError(
      await api.call("PUT", path, { headers: { "content-type": "application/json" } }),
      400,
      CODE.invalidPropertyValue,
    );
    await expectEmptySlot(api, peer);
  });

  test("the error message names the offending property", async () => {
    const { api, peer } = await connected();
    const error = expectError(
      await api.call("PUT", path, { json: { reference: peer, key: 5, value: 1 } }),
      400,
      CODE.invalidPropertyValue,
    );
    expect(error.message).toContain("key");
  });

  test("a value over the runtime's size limit (configured 100 bytes); one at the limit is stored", async () => {
    const rt = await w.runtime({ maxIdentityMetadataValueBytes: 100 });
    const api = await served(rt);
    // "x" * 98 serializes to 100 bytes with its quotes.
    const atLimit = "x".repeat(98);
    expect(
      resultOf<IdentityMetadataDTO>(
        await api.call("PUT", path, { json: { reference: rt.address, key: "fits", value: atLimit } }),
      ).value,
    ).toBe(atLimit);
    const error = expectError(
      await api.call("PUT", path, { json: { reference: rt.address, value: "x".repeat(99) } }),
      400,
      CODE.invalidPropertyValue,
    );
    expect(error.message).toContain("100");
    await expectEmptySlot(api, rt.address);
  });

  test("a value over the default 1 MiB limit is 400 (the body itself is within the handler's default limit)", async () => {
    const rt = await w.runtime();
    const api = await served(rt);
    const answer = await api.call("PUT", path, {
      json: { reference: rt.address, value: "x".repeat(1024 * 1024 - 1) },
    });
    expectError(answer, 400, CODE.invalidPropertyValue);
    await expectEmptySlot(api, rt.address);
    // 1 MiB exactly (with its quotes) is stored.
    const fits = "x".repeat(1024 * 1024 - 2);
    const stored = await api.call("PUT", path, { json: { reference: rt.address, key: "big", value: fits } });
    expect(resultOf<IdentityMetadataDTO>(stored).value).toBe(fits);
  });

  test("without bodyLimitBytes, a body over 2 MiB is 413", async () => {
    const rt = await w.runtime();
    const api = await served(rt);
    const answer = await api.call("PUT", path, {
      json: { reference: rt.address, value: "x".repeat(2 * 1024 * 1024) },
    });
    expectError(answer, 413, "error.http.payloadTooLarge");
    await expectEmptySlot(api, rt.address);
  });

  test.each(["GET", "DELETE"])(
    "%s with a malformed reference, without reference, or with an unknown parameter",
    async (method) => {
      const { api, peer } = await connected();
      resultOf(await api.call("PUT", path, { json: { reference: peer, value: 1 } }));
      for (const search of [
        query(["reference", "nope"]),
        "",
        query(["key", "k"]),
        query(["reference", peer], ["unknown", "1"]),
        query(["reference", peer], ["Reference", peer]),
      ]) {
        expectError(await api.call(method, `${path}${search}`), 400, CODE.invalidPropertyValue);
      }
      // The record is still there after every refused DELETE.
      expect(
        resultOf<IdentityMetadataDTO>(await api.call("GET", `${path}${query(["reference", peer])}`)).value,
      ).toBe(1);
    },
  );

  test.each(["GET", "DELETE"])("%s with a query parameter given twice", async (method) => {
    const { api, peer } = await connected();
    resultOf(await api.call("PUT", path, { json: { reference: peer, key: "a", value: 1 } }));
    for (const search of [
      query(["reference", peer], ["reference", peer]),
      query(["reference", "a"], ["reference", "b"]),
      query(["reference", peer], ["key", "a"], ["key", "b"]),
      query(["reference", peer], ["key", "a"], ["key", "a"]),
    ]) {
      expectError(await api.call(method, `${path}${search}`), 400, CODE.invalidPropertyValue);
    }
    expect(
      resultOf<IdentityMetadataDTO>(
        await api.call("GET", `${path}${query(["reference", peer], ["key", "a"])}`),
      ).value,
    ).toBe(1);
  });

  test("an unfamiliar reference: 400 unfamiliarReferencedIdentity, nothing stored", async () => {
    const { api } = await connected();
    const error = expectError(
      await api.call("PUT", path, { json: { reference: UNKNOWN_ADDRESS, value: 1 } }),
      400,
      CODE.unfamiliarReferencedIdentity,
    );
    expect(error.message).toContain(UNKNOWN_ADDRESS);
    await expectEmptySlot(api, UNKNOWN_ADDRESS);
  });
});

describe("IdentityDeletionProcess routes", () => {
  const base = "/api/v2/IdentityDeletionProcesses";

  async function single() {
    const rt = await w.runtime();
    return { rt, api: await served(rt) };
  }

  test("POST with lengthOfGracePeriodInDays: 201 Approved; GET list, Active and by id answer it; a second POST is 409", async () => {
    const { api } = await single();
    const process = resultOf<IdentityDeletionProcessDTO>(
      await api.call("POST", base, { json: { lengthOfGracePeriodInDays: 30 } }),
      201,
    );
    expect(process).toStrictEqual({
      id: expect.stringMatching(IDP_ID) as unknown,
      status: "Approved",
      createdAt: at(0),
      approvedAt: at(0),
      gracePeriodEndsAt: at(30 * DAY),
    });

    expect(resultOf(await api.call("GET", base))).toStrictEqual([process]);
    expect(resultOf(await api.call("GET", `${base}/Active`))).toStrictEqual(process);
    expect(resultOf(await api.call("GET", `${base}/${process.id}`))).toStrictEqual(process);
    expect(
      resultOf(await api.call("GET", `/api/core/v1/IdentityDeletionProcesses/${process.id}`)),
    ).toStrictEqual(process);

    expectError(
      await api.call("POST", base, { json: { lengthOfGracePeriodInDays: 1 } }),
      409,
      CODE.activeIdentityDeletionProcessAlreadyExists,
    );
    expect(resultOf(await api.call("GET", base))).toStrictEqual([process]);
  });

  test("POST without any body: 201 with the Backbone's grace period (14 days); `{}` is the same", async () => {
    const { api } = await single();
    const process = resultOf<IdentityDeletionProcessDTO>(await api.call("POST", base), 201);
    expect(process.status).toBe("Approved");
    expect(process.gracePeriodEndsAt).toBe(at(14 * DAY));
    resultOf(await api.call("POST", `${base}/Active/Cancel`));
    expect(
      resultOf<IdentityDeletionProcessDTO>(await api.call("POST", base, { json: {} }), 201).gracePeriodEndsAt,
    ).toBe(at(14 * DAY));
  });

  test.each<[string, unknown]>([
    ["negative", { lengthOfGracePeriodInDays: -1 }],
    ["a string", { lengthOfGracePeriodInDays: "3" }],
    ["with an unknown property", { lengthOfGracePeriodInDays: 3, extra: 1 }],
    ["an array", [3]],
  ])("POST with a body that is %s: 400, nothing initiated", async (_name, body) => {
    const { api } = await single();
    expectError(await api.call("POST", base, { json: body }), 400, CODE.invalidPropertyValue);
    expect(resultOf(await api.call("GET", base))).toStrictEqual([]);
    expectError(await api.call("GET", `${base}/Active`), 404, CODE.noActiveIdentityDeletionProcess);
  });

  test("GET by a well-formed unknown id is 404 recordNotFound; a malformed id is 400", async () => {
    const { api } = await single();
    expectError(await api.call("GET", `${base}/${WELL_FORMED_UNKNOWN_IDP}`), 404, CODE.recordNotFound);
    expectError(await api.call("GET", `${base}/not-an-id`), 400, CODE.invalidPropertyValue);
    expectError(await api.call("GET", `${base}/IDMaaaaaaaaaaaaaaaaa`), 400, CODE.invalidPropertyValue);
  });

  test("GET by id with a malformed percent-encoding is a client error, not 500", async () => {
    const { api } = await single();
    const answer = await api.call("GET", `${base}/%E0%A4%A`);
    expect([400, 404]).toContain(answer.status);
    expectError(
      answer,
      answer.status,
      answer.status === 400 ? CODE.invalidPropertyValue : "error.http.routeNotFound",
    );
  });

  test("Cancel: 200 Cancelled, again 409 noApproved; then Active is 404 noActive", async () => {
    const { api } = await single();
    const process = resultOf<IdentityDeletionProcessDTO>(await api.call("POST", base), 201);
    w.clock.advance({ hours: 1 });
    const cancelled = resultOf<IdentityDeletionProcessDTO>(await api.call("POST", `${base}/Active/Cancel`));
    expect(cancelled).toStrictEqual({ ...process, status: "Cancelled", cancelledAt: at(3_600_000) });
    expectError(await api.call("POST", `${base}/Active/Cancel`), 409, CODE.noApprovedIdentityDeletionProcess);
    expectError(await api.call("GET", `${base}/Active`), 404, CODE.noActiveIdentityDeletionProcess);
    expect(resultOf(await api.call("GET", base))).toStrictEqual([cancelled]);
  });

  test("GET Active with no process at all: 404 noActive; list is empty", async () => {
    const { api } = await single();
    expectError(await api.call("GET", `${base}/Active`), 404, CODE.noActiveIdentityDeletionProcess);
    expect(resultOf(await api.call("GET", base))).toStrictEqual([]);
  });

  test("Approve after the Backbone admin started a process: 200 Approved", async () => {
    const { api, rt } = await single();
    const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    expect(resultOf(await api.call("GET", `${base}/Active`))).toStrictEqual(started);
    const approved = resultOf<IdentityDeletionProcessDTO>(await api.call("POST", `${base}/Active/Approve`));
    expect(approved).toStrictEqual({
      ...started,
      status: "Approved",
      approvedAt: at(0),
      gracePeriodEndsAt: at(14 * DAY),
    });
    expectError(
      await api.call("POST", `${base}/Active/Approve`),
      409,
      CODE.noWaitingForApprovalIdentityDeletionProcess,
    );
  });

  test("Reject after the Backbone admin started a process: 200 Rejected", async () => {
    const { api, rt } = await single();
    const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    const rejected = resultOf<IdentityDeletionProcessDTO>(await api.call("POST", `${base}/Active/Reject`));
    expect(rejected).toStrictEqual({ ...started, status: "Rejected", rejectedAt: at(0) });
    expectError(
      await api.call("POST", `${base}/Active/Reject`),
      409,
      CODE.noWaitingForApprovalIdentityDeletionProcess,
    );
    expectError(await api.call("GET", `${base}/Active`), 404, CODE.noActiveIdentityDeletionProcess);
  });

  test("Approve and Reject without a waiting process: 409 noWaitingForApproval", async () => {
    const { api } = await single();
    expectError(
      await api.call("POST", `${base}/Active/Approve`),
      409,
      CODE.noWaitingForApprovalIdentityDeletionProcess,
    );
    expectError(
      await api.call("POST", `${base}/Active/Reject`),
      409,
      CODE.noWaitingForApprovalIdentityDeletionProcess,
    );
    // An initiated process is Approved already: still nothing waiting.
    resultOf(await api.call("POST", base), 201);
    expectError(
      await api.call("POST", `${base}/Active/Approve`),
      409,
      CODE.noWaitingForApprovalIdentityDeletionProcess,
    );
    expectError(
      await api.call("POST", `${base}/Active/Reject`),
      409,
      CODE.noWaitingForApprovalIdentityDeletionProcess,
    );
  });

  test("GET IdentityDeletionStatus: { isDeleted: false }, with the deletion date once a process is approved", async () => {
    const { api } = await single();
    expect(resultOf(await api.call("GET", "/api/v2/IdentityDeletionStatus"))).toStrictEqual({
      isDeleted: false,
    });
    resultOf(
      await api.call("POST", "/api/core/v1/IdentityDeletionProcesses", {
        json: { lengthOfGracePeriodInDays: 2 },
      }),
      201,
    );
    expect(resultOf(await api.call("GET", "/api/core/v1/IdentityDeletionStatus"))).toStrictEqual({
      isDeleted: false,
      deletionDate: at(2 * DAY),
    });
  });
});

describe("HTTP-level errors", () => {
  const path = "/api/v2/IdentityMetadata";

  test.each([
    ["GET", "/api/v2/Nope"],
    ["GET", "/api/v2"],
    ["GET", "/api/v3/IdentityMetadata"],
    ["GET", "/IdentityMetadata"],
    ["PUT", "/api/v2/IdentityMetadata/extra"],
    ["POST", "/api/v2/IdentityDeletionProcesses/Active/Nope"],
    ["GET", "/"],
  ])("%s %s: 404 routeNotFound", async (method, target) => {
    const { api } = await connected();
    const error = expectError(await api.call(method, target), 404, "error.http.routeNotFound");
    expect(error.message).toContain(method);
  });

  test.each<[string, string, string[]]>([
    ["PATCH", "/api/v2/IdentityMetadata", ["DELETE", "GET", "PUT"]],
    ["POST", "/api/core/v1/IdentityMetadata", ["DELETE", "GET", "PUT"]],
    ["DELETE", "/api/v2/IdentityDeletionProcesses", ["GET", "POST"]],
    ["PUT", "/api/v2/IdentityDeletionProcesses/Active", ["GET"]],
    ["GET", "/api/v2/IdentityDeletionProcesses/Active/Cancel", ["POST"]],
    ["POST", "/api/v2/IdentityDeletionStatus", ["GET"]],
    ["DELETE", `/api/v2/IdentityDeletionProcesses/${WELL_FORMED_UNKNOWN_IDP}`, ["GET"]],
    ["POST", "/api/v2/openapi.json", ["GET"]],
  ])("%s %s: 405 methodNotAllowed with Allow: %j", async (method, target, allowed) => {
    const { api } = await connected();
    const answer = await api.call(method, target);
    expectError(answer, 405, "error.http.methodNotAllowed");
    const allow = (answer.headers.get("allow") ?? "")
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean);
    expect(allow.sort()).toEqual(allowed);
  });

  test("POST /health: 405 with Allow, not an internal error", async () => {
    const { api } = await connected();
    const answer = await api.call("POST", "/health", { key: null });
    expectError(answer, 405, "error.http.methodNotAllowed");
    expect(answer.headers.get("allow")).toContain("GET");
  });

  test("PUT with a text/plain body (valid JSON text): 415 unsupportedMediaType, nothing stored", async () => {
    const { api, peer } = await connected();
    const text = JSON.stringify({ reference: peer, value: 1 });
    expectError(
      await api.call("PUT", path, { raw: text, headers: { "content-type": "text/plain" } }),
      415,
      "error.http.unsupportedMediaType",
    );
    await expectEmptySlot(api, peer);
  });

  test("PUT with a body but no content type: 415, nothing stored", async () => {
    const { api, peer } = await connected();
    const answer = await api.call("PUT", path, {
      raw: Buffer.from(JSON.stringify({ reference: peer, value: 1 })),
    });
    expectError(answer, 415, "error.http.unsupportedMediaType");
    await expectEmptySlot(api, peer);
  });

  test.each(['{"reference": ', "{'a': 1}", "not json", '{"reference":"x","value":1}}'])(
    "malformed JSON %j: 400 invalidJson, nothing stored",
    async (text) => {
      const { api, peer } = await connected();
      expectError(await api.call("PUT", path, rawJson(text)), 400, "error.http.invalidJson");
      expectError(
        await api.call("POST", "/api/v2/IdentityDeletionProcesses", rawJson(text)),
        400,
        "error.http.invalidJson",
      );
      await expectEmptySlot(api, peer);
      expect(resultOf(await api.call("GET", "/api/v2/IdentityDeletionProcesses"))).toStrictEqual([]);
    },
  );

  /** A PUT body of exactly `bytes` bytes about `peer`. */
  function bodyOfSize(peer: string, bytes: number): string {
    const empty = JSON.stringify({ reference: peer, value: "" });
    return JSON.stringify({ reference: peer, value: "x".repeat(bytes - empty.length) });
  }

  test("a body at bodyLimitBytes is accepted", async () => {
    const { api, peer } = await connected({ bodyLimitBytes: 1024 });
    const text = bodyOfSize(peer, 1024);
    expect(Buffer.byteLength(text)).toBe(1024);
    resultOf(await api.call("PUT", path, rawJson(text)));
  });

  test("a body over bodyLimitBytes with an honest Content-Length: 413 payloadTooLarge, nothing stored", async () => {
    const { api, peer } = await connected({ bodyLimitBytes: 1024 });
    const text = bodyOfSize(peer, 1025);
    const error = expectError(await api.call("PUT", path, rawJson(text)), 413, "error.http.payloadTooLarge");
    expect(error.message).toContain("1024");
    await expectEmptySlot(api, peer);
  });

  test("a chunked body (no Content-Length) over bodyLimitBytes: 413 payloadTooLarge, nothing stored", async () => {
    const { api, peer } = await connected({ bodyLimitBytes: 1024 });
    const text = bodyOfSize(peer, 2000);
    const chunks = [text.slice(0, 500), text.slice(500, 1000), text.slice(1000, 1500), text.slice(1500)];
    const answer = await api.call("PUT", path, {
      raw: streamOf(...chunks),
      headers: { "content-type": "application/json" },
    });
    expectError(answer, 413, "error.http.payloadTooLarge");
    await expectEmptySlot(api, peer);
  });

  test("a chunked body within the limit is read and stored", async () => {
    const { api, peer } = await connected({ bodyLimitBytes: 1024 });
    const text = bodyOfSize(peer, 900);
    const answer = await api.call("PUT", path, {
      raw: streamOf(text.slice(0, 300), text.slice(300, 600), text.slice(600)),
      headers: { "content-type": "application/json" },
    });
    expect(resultOf<IdentityMetadataDTO>(answer).reference).toBe(peer);
  });

  test("the server still answers after refusing an oversized body", async () => {
    const { api, peer } = await connected({ bodyLimitBytes: 1024 });
    expectError(
      await api.call("PUT", path, rawJson(bodyOfSize(peer, 5000))),
      413,
      "error.http.payloadTooLarge",
    );
    resultOf(await api.call("PUT", path, { json: { reference: peer, value: 1 } }));
  });
});

describe("security", () => {
  const path = "/api/v2/IdentityMetadata";

  test("createHttpHandler refuses an empty API key", async () => {
    const rt = await w.runtime();
    expect(() => createHttpHandler(rt, { apiKey: "" })).toThrow(TypeError);
  });

  test.each<[string, string | null]>([
    ["no X-API-KEY", null],
    ["a wrong key", "wrong-key"],
    ["a key differing only in length (longer)", "test-key-"],
    ["a key differing only in length (shorter)", "test-ke"],
    ["a key differing in case", "TEST-KEY"],
    ["an empty key", ""],
  ])("%s: 401 unauthorized on every route, nothing stored", async (_name, key) => {
    const { api, peer } = await connected();
    const slot = query(["reference", peer]);
    expectError(
      await api.call("PUT", path, { key, json: { reference: peer, value: 1 } }),
      401,
      "error.http.unauthorized",
    );
    expectError(await api.call("GET", `${path}${slot}`, { key }), 401, "error.http.unauthorized");
    expectError(await api.call("DELETE", `${path}${slot}`, { key }), 401, "error.http.unauthorized");
    expectError(
      await api.call("POST", "/api/v2/IdentityDeletionProcesses", { key }),
      401,
      "error.http.unauthorized",
    );
    expectError(
      await api.call("GET", "/api/core/v1/IdentityDeletionStatus", { key }),
      401,
      "error.http.unauthorized",
    );
    expectError(await api.call("GET", "/api/v2/openapi.json", { key }), 401, "error.http.unauthorized");
    // Unknown routes do not reveal themselves without a key.
    expectError(await api.call("GET", "/api/v2/Nope", { key }), 401, "error.http.unauthorized");
    await expectEmptySlot(api, peer);
    expect(resultOf(await api.call("GET", "/api/v2/IdentityDeletionProcesses"))).toStrictEqual([]);
  });

  test("the right key: 200", async () => {
    const { api, peer } = await connected();
    resultOf(await api.call("PUT", path, { key: "test-key", json: { reference: peer, value: 1 } }));
  });

  test("GET /health: 200 { isHealthy: true } without a key (and with a wrong one)", async () => {
    const { api } = await connected();
    for (const key of [null, "wrong"]) {
      const answer = await api.call("GET", "/health", { key });
      expect(answer.status).toBe(200);
      expect(answer.body).toStrictEqual({ isHealthy: true });
      expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    }
  });

  test("a top-level __proto__ property: 400 unknown property; Object.prototype is not polluted", async () => {
    const { api, peer } = await connected();
    const text = `{"reference":${JSON.stringify(peer)},"value":1,"__proto__":{"polluted":"yes","isAdmin":true}}`;
    const error = expectError(await api.call("PUT", path, rawJson(text)), 400, CODE.invalidPropertyValue);
    expect(error.message).toContain("__proto__");
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(({} as Record<string, unknown>)["isAdmin"]).toBeUndefined();
    await expectEmptySlot(api, peer);
  });

  test("a top-level constructor property: 400 unknown property", async () => {
    const { api, peer } = await connected();
    const text = `{"reference":${JSON.stringify(peer)},"value":1,"constructor":{"prototype":{"polluted":"yes"}}}`;
    expectError(await api.call("PUT", path, rawJson(text)), 400, CODE.invalidPropertyValue);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    await expectEmptySlot(api, peer);
  });

  test("a value with __proto__ and constructor keys is stored and read back exactly, as data", async () => {
    const { api, peer } = await connected();
    const valueText =
      '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},' +
      '"nested":[{"__proto__":null,"constructor":"c"}],"toString":"t"}';
    const text = `{"reference":${JSON.stringify(peer)},"key":"proto","value":${valueText}}`;
    const put = await api.call("PUT", path, rawJson(text));
    expect(put.status).toBe(200);
    // Compare texts: the response parsed with JSON.parse keeps __proto__ as an own property too.
    expect(JSON.stringify(resultOf<IdentityMetadataDTO>(put).value)).toBe(valueText);
    const get = await api.call("GET", `${path}${query(["reference", peer], ["key", "proto"])}`);
    const value = resultOf<IdentityMetadataDTO>(get).value as Record<string, unknown>;
    expect(JSON.stringify(value)).toBe(valueText);
    expect(Object.hasOwn(value, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.prototype.toString.call({})).toBe("[object Object]");
  });
});

describe("hostile requests", () => {
  test.each(ODD_TARGETS)(
    "GET %s without a key: an answer (400, 401 or 404), the server serves on",
    async (target) => {
      const { api, rt } = await connected();
      const answer = await rawRequest(api.url, `GET ${target} HTTP/1.1\r\nhost: localhost`);
      expect([400, 401, 404]).toContain(answer.status);
      expect((await api.call("GET", "/health", { key: null })).status).toBe(200);
      resultOf(
        await api.call("PUT", "/api/v2/IdentityMetadata", { json: { reference: rt.address, value: 1 } }),
      );
    },
  );

  test.each(["http://[/", "*"])(
    "a target that is not a path (%s): 400 invalidRequestTarget",
    async (target) => {
      const { api } = await connected();
      const answer = await rawRequest(api.url, `GET ${target} HTTP/1.1\r\nhost: localhost`);
      expect(answer.status).toBe(400);
      expect((JSON.parse(answer.text) as HttpErrorBody).error.code).toBe("error.http.invalidRequestTarget");
    },
  );

  test("a path that starts with // is a path, not a host: 404 with the key, the route below it is not reached", async () => {
    const { api } = await connected();
    const answer = await rawRequest(
      api.url,
      `GET //evil/api/v2/IdentityDeletionProcesses HTTP/1.1\r\nhost: localhost\r\nx-api-key: ${API_KEY}`,
    );
    expect(answer.status).toBe(404);
  });

  test("an absolute-form target (as sent to proxies) is served by its path", async () => {
    const { api } = await connected();
    const answer = await rawRequest(
      api.url,
      `GET ${api.url}/api/v2/IdentityDeletionProcesses HTTP/1.1\r\nhost: localhost\r\nx-api-key: ${API_KEY}`,
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toStrictEqual({ result: [] });
  });

  test("?__proto__=x is a parameter like any other: 400 unknown property", async () => {
    const { api, peer } = await connected();
    for (const method of ["GET", "DELETE"]) {
      const answer = await api.call(
        method,
        `/api/v2/IdentityMetadata${query(["reference", peer], ["__proto__", "x"])}`,
      );
      expect(expectError(answer, 400, CODE.invalidPropertyValue).message).toContain("__proto__");
    }
  });

  test("a body nested 20,000 levels deep: 400 naming the depth limit, reported nowhere as an internal error", async () => {
    const errors: unknown[] = [];
    const { api, peer } = await connected({ onError: (error) => errors.push(error) });
    const deep = "[".repeat(20_000) + "]".repeat(20_000);
    const answer = await api.call(
      "PUT",
      "/api/v2/IdentityMetadata",
      rawJson(`{"reference":${JSON.stringify(peer)},"value":${deep}}`),
    );
    expect(expectError(answer, 400, CODE.invalidPropertyValue).message).toContain(
      `nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
    expect(errors).toEqual([]);
    await expectEmptySlot(api, peer);
  });

  test("brackets inside strings (and escaped quotes before them) do not count as nesting", async () => {
    const { api, peer } = await connected();
    const value = {
      text: "[".repeat(1_000),
      quoted: '\\"' + "{".repeat(1_000),
      deep: JSON.parse("[".repeat(255) + "]".repeat(255)) as unknown,
    };
    const put = await api.call("PUT", "/api/v2/IdentityMetadata", { json: { reference: peer, value } });
    expect(resultOf<IdentityMetadataDTO>(put).value).toStrictEqual(value);
  });

  test("a key over the limit: 400 naming key, on PUT, GET and DELETE", async () => {
    const { api, peer } = await connected();
    const key = "k".repeat(MAX_IDENTITY_METADATA_KEY_LENGTH + 1);
    const put = await api.call("PUT", "/api/v2/IdentityMetadata", {
      json: { reference: peer, key, value: 1 },
    });
    expect(expectError(put, 400, CODE.invalidPropertyValue).message).toContain("key");
    for (const method of ["GET", "DELETE"]) {
      const answer = await api.call(
        method,
        `/api/v2/IdentityMetadata${query(["reference", peer], ["key", key])}`,
      );
      expect(expectError(answer, 400, CODE.invalidPropertyValue).message).toContain("key");
    }
  });

  test("HEAD on a GET route answers like GET, without a body", async () => {
    const { api, rt } = await connected();
    const head = await api.call("HEAD", `/api/v2/IdentityMetadata${query(["reference", rt.address])}`);
    expect({ status: head.status, text: head.text }).toEqual({ status: 404, text: "" });
    const list = await api.call("HEAD", "/api/v2/IdentityDeletionProcesses");
    expect({ status: list.status, text: list.text }).toEqual({ status: 200, text: "" });
  });

  test("a client that aborts its upload is logged with 499 and is not reported as a failure of the server", async () => {
    const errors: unknown[] = [];
    const logged: number[] = [];
    const { api } = await connected({
      onError: (error) => errors.push(error),
      onResponse: ({ status }) => logged.push(status),
    });
    const { hostname, port } = new URL(api.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          `PUT /api/v2/IdentityMetadata HTTP/1.1\r\nhost: x\r\nx-api-key: ${API_KEY}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"ref`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
    });
    await sleep(200);
    expect(logged).toEqual([499]);
    expect(errors).toEqual([]);
  });

  test("createHttpHandler refuses an API key no client can send and a body limit that is not a size", async () => {
    const rt = await w.runtime();
    for (const apiKey of [" key", "key ", "key\n", "ключ", "a\u0000b"]) {
      expect(() => createHttpHandler(rt, { apiKey })).toThrow(TypeError);
    }
    expect(() => createHttpHandler(rt, { apiKey: "inner space is fine" })).not.toThrow();
    for (const bodyLimitBytes of [Number.NaN, -1, 0, 1.5, Infinity]) {
      expect(() => createHttpHandler(rt, { apiKey: API_KEY, bodyLimitBytes })).toThrow(RangeError);
    }
  });

  test("a listener of onResponse or onError that throws does not take the server down", async () => {
    const rt = await w.runtime();
    const api = await served(rt, {
      onResponse: () => {
        throw new Error("logger down");
      },
      onError: () => {
        throw new Error("reporter down");
      },
    });
    await rawRequest(api.url, "GET //[ HTTP/1.1\r\nhost: localhost");
    expect((await api.call("GET", "/health", { key: null })).status).toBe(200);
  });
});

describe("a storage that does not answer", () => {
  const down = (inner: StorageAdapter, isDown: () => boolean): StorageAdapter => {
    const failure = () =>
      Promise.reject(new StorageFailure("connect ECONNREFUSED 127.0.0.1:5432 (index slot_idx)"));
    return delegating(inner, (target) => ({
      get: (collection, id) => (isDown() ? failure() : target.get(collection, id)),
      getBySlot: (collection, slot) => (isDown() ? failure() : target.getBySlot(collection, slot)),
    }));
  };

  test("503 error.runtime.storage with a generic message; the cause goes to onError only", async () => {
    const errors: unknown[] = [];
    const rt = await createRuntime({ backbone: w.backbone, storage: down(lokiStorage(), () => true) });
    ownRuntimes.push(rt);
    const api = await served(rt, { onError: (error) => errors.push(error) });
    const answer = await api.call("GET", `/api/v2/IdentityMetadata${query(["reference", rt.address])}`);
    const error = expectError(answer, 503, "error.runtime.storage");
    for (const leak of ["ECONNREFUSED", "127.0.0.1", "slot_idx"]) expect(answer.text).not.toContain(leak);
    expect(error.message).toContain("try again");
    expect(String(errors[0])).toContain("ECONNREFUSED");
  });

  test("/health answers 503 { isHealthy: false } while the storage is down and 200 once it is back", async () => {
    let isDown = false;
    const errors: unknown[] = [];
    const rt = await createRuntime({ backbone: w.backbone, storage: down(lokiStorage(), () => isDown) });
    ownRuntimes.push(rt);
    const api = await served(rt, { onError: (error) => errors.push(error) });
    expect((await api.call("GET", "/health", { key: null })).body).toStrictEqual({ isHealthy: true });
    isDown = true;
    // One answer stands for a second, so probes cost one storage read per second at most.
    await sleep(1_050);
    const sick = await api.call("GET", "/health", { key: null });
    expect({ status: sick.status, body: sick.body }).toStrictEqual({
      status: 503,
      body: { isHealthy: false },
    });
    expect(sick.text).not.toContain("ECONNREFUSED");
    expect(String(errors[0])).toContain("ECONNREFUSED");
    isDown = false;
    await sleep(1_050);
    expect((await api.call("GET", "/health", { key: null })).status).toBe(200);
  });

  test("/health answers 503 within its timeout when the storage stops answering (no refusal, just silence)", async () => {
    const inner = lokiStorage();
    const held: (() => void)[] = [];
    let silent = false;
    const rt = await createRuntime({
      backbone: w.backbone,
      storage: delegating(inner, (target) => ({
        get: (collection, id) =>
          silent
            ? new Promise((resolve) => held.push(() => resolve(target.get(collection, id))))
            : target.get(collection, id),
      })),
    });
    ownRuntimes.push(rt);
    const api = await served(rt, { onError: () => undefined });
    silent = true;
    const started = Date.now();
    const sick = await api.call("GET", "/health", { key: null });
    expect({ status: sick.status, body: sick.body }).toStrictEqual({
      status: 503,
      body: { isHealthy: false },
    });
    expect(Date.now() - started).toBeLessThan(4_000);
    // The storage answers again: the read that was given up finishes, and the runtime can close.
    silent = false;
    for (const release of held) release();
  });

  test("/health reads the storage at most once per second however many probes come", async () => {
    let reads = 0;
    const inner = lokiStorage();
    const rt = await createRuntime({
      backbone: w.backbone,
      storage: delegating(inner, (target) => ({
        get: (collection, id) => (reads++, target.get(collection, id)),
      })),
    });
    ownRuntimes.push(rt);
    const api = await served(rt);
    reads = 0;
    await Promise.all(Array.from({ length: 20 }, () => api.call("GET", "/health", { key: null })));
    expect(reads).toBe(1);
  });
});

test("an unexpected storage failure: 500 error.runtime.unknown without the cause, a path or a stack", async () => {
  const storage = lokiStorage();
  const failing: StorageAdapter = delegating(storage, (_target) => ({
    getBySlot: () => Promise.reject(new Error("secret path /etc/x")),
  }));
  const rt = await createRuntime({ backbone: w.backbone, storage: failing });
  ownRuntimes.push(rt);
  const api = await served(rt);
  const answer = await api.call("GET", `/api/v2/IdentityMetadata${query(["reference", rt.address])}`);
  const error = expectError(answer, 500, "error.runtime.unknown");
  for (const leak of ["secret", "/etc", "at "]) {
    expect(error.message).not.toContain(leak);
    expect(answer.text).not.toContain(leak);
  }
  // The server keeps serving.
  expect((await api.call("GET", "/health", { key: null })).status).toBe(200);
});

describe("concurrency", () => {
  async function thirtyPuts(api: Served, reference: string): Promise<void> {
    const path = "/api/v2/IdentityMetadata";
    const answers: Answer[] = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        api.call("PUT", path, { json: { reference, key: "slot", value: { index } } }),
      ),
    );
    const dtos = answers.map((answer) => resultOf<IdentityMetadataDTO>(answer, 200));
    const ids = new Set(dtos.map((dto) => dto.id));
    expect(ids.size).toBe(1);
    const slot = `${path}${query(["reference", reference], ["key", "slot"])}`;
    const stored = resultOf<IdentityMetadataDTO>(await api.call("GET", slot));
    expect(ids.has(stored.id)).toBe(true);
    expect(dtos.map((dto) => dto.value)).toContainEqual(stored.value);
    expect((await api.call("DELETE", slot)).status).toBe(204);
    expectError(await api.call("DELETE", slot), 404, CODE.identityMetadataNotFound);
    expectError(await api.call("GET", slot), 404, CODE.identityMetadataNotFound);
  }

  test("30 concurrent PUTs on one slot about a peer: all 200 with one id, one record afterwards", async () => {
    const { api, peer } = await connected();
    await thirtyPuts(api, peer);
  });

  test("30 concurrent PUTs on one slot on a slow storage: all 200 with one id, one record afterwards", async () => {
    const rt = await createRuntime({ backbone: w.backbone, storage: slowStorage(lokiStorage(), 2) });
    ownRuntimes.push(rt);
    await thirtyPuts(await served(rt), rt.address);
  });
});

describe("OpenAPI document", () => {
  /**
   * The IdentityMetadata and identity deletion operations below each prefix, the issue's routes and ours; the
   * Connector routes' success statuses are checked by the SDK in connector-routes.test.ts.
   */
  const OPERATIONS = [
    "put /IdentityMetadata",
    "get /IdentityMetadata",
    "delete /IdentityMetadata",
    "post /IdentityDeletionProcesses",
    "get /IdentityDeletionProcesses",
    "get /IdentityDeletionProcesses/Active",
    "post /IdentityDeletionProcesses/Active/Approve",
    "post /IdentityDeletionProcesses/Active/Reject",
    "post /IdentityDeletionProcesses/Active/Cancel",
    "get /IdentityDeletionProcesses/{id}",
    "get /IdentityDeletionStatus",
    "get /openapi.json",
    "get /health",
  ];
  const METHODS = ["get", "put", "post", "delete", "patch"] as const;

  interface Document {
    openapi: string;
    servers: { url: string }[];
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  }

  async function documentOf(api: Served, prefix = "/api/v2"): Promise<Document> {
    const answer = await api.call("GET", `${prefix}/openapi.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    return answer.body as Document;
  }

  function operationsOf(document: Document): string[] {
    return Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => (METHODS as readonly string[]).includes(method))
        .map((method) => `${method} ${path}`),
    );
  }

  function successStatusOf(document: Document, operation: string): number {
    const [method, path] = operation.split(" ") as [string, string];
    const statuses = Object.keys(document.paths[path]?.[method]?.responses ?? {}).filter((s) =>
      /^2\d\d$/.test(s),
    );
    expect({ operation, statuses: statuses.length }).toEqual({ operation, statuses: 1 });
    return Number(statuses[0]);
  }

  test("served at /api/v2/openapi.json as OpenAPI 3.1.0, identical to docs/openapi.json", async () => {
    const { api } = await connected();
    const served = await documentOf(api);
    expect(served.openapi).toBe("3.1.0");
    const file: unknown = JSON.parse(
      readFileSync(join(__dirname, "..", "..", "docs", "openapi.json"), "utf8"),
    );
    try {
      expect(served).toEqual(file);
    } catch (error) {
      throw new Error(
        `docs/openapi.json differs from the served document: run \`npm run openapi\`\n${(error as Error).message}`,
        { cause: error },
      );
    }
    expect(await documentOf(api, "/api/core/v1")).toEqual(served);
    expect(served.servers.map((server) => server.url).sort()).toEqual([...PREFIXES].sort());
  });

  test("documents exactly the operations the handler serves", async () => {
    const { api } = await connected();
    expect(operationsOf(await documentOf(api)).sort()).toEqual(
      [...OPERATIONS, ...CONNECTOR_OPERATIONS, ...NOT_MODELLED_OPERATIONS].sort(),
    );
  });

  test("every documented operation is served under both prefixes; undocumented methods on its paths are 405", async () => {
    const { api } = await connected();
    const document = await documentOf(api);
    for (const prefix of PREFIXES) {
      for (const [path, item] of Object.entries(document.paths)) {
        // A path with servers of its own (the health route, at the root) is served there, not below a prefix.
        const servers = (item as { servers?: { url: string }[] }).servers;
        const base = servers === undefined ? prefix : (servers[0]?.url ?? "").replace(/\/$/, "");
        const target = `${base}${path.replace("{id}", WELL_FORMED_UNKNOWN_IDP)}`;
        for (const method of METHODS) {
          const answer = await api.call(method.toUpperCase(), target);
          const code = (answer.body as { error?: { code?: string } } | undefined)?.error?.code;
          if (method in item) {
            expect({ target, method, status: answer.status, code }).not.toMatchObject({ status: 405 });
            expect({ target, method, code }).not.toMatchObject({ code: "error.http.routeNotFound" });
          } else {
            expect({ target, method, status: answer.status }).toEqual({ target, method, status: 405 });
          }
        }
      }
    }
  });

  test("each documented success status is what a happy-path call answers", async () => {
    const { api, peer, rt } = await connected();
    const document = await documentOf(api);
    const observed = new Map<string, number>();
    const run = async (operation: string, target: string, options?: CallOptions) => {
      const answer = await api.call(operation.split(" ")[0]!.toUpperCase(), `/api/v2${target}`, options);
      observed.set(operation, answer.status);
      return answer;
    };
    const slot = query(["reference", peer], ["key", "k"]);
    await run("put /IdentityMetadata", "/IdentityMetadata", {
      json: { reference: peer, key: "k", value: 1 },
    });
    await run("get /IdentityMetadata", `/IdentityMetadata${slot}`);
    await run("delete /IdentityMetadata", `/IdentityMetadata${slot}`);
    const initiated = await run("post /IdentityDeletionProcesses", "/IdentityDeletionProcesses", {
      json: { lengthOfGracePeriodInDays: 3 },
    });
    const { id } = resultOf<IdentityDeletionProcessDTO>(initiated, initiated.status);
    await run("get /IdentityDeletionProcesses", "/IdentityDeletionProcesses");
    await run("get /IdentityDeletionProcesses/Active", "/IdentityDeletionProcesses/Active");
    await run("get /IdentityDeletionProcesses/{id}", `/IdentityDeletionProcesses/${id}`);
    await run("get /IdentityDeletionStatus", "/IdentityDeletionStatus");
    await run("post /IdentityDeletionProcesses/Active/Cancel", "/IdentityDeletionProcesses/Active/Cancel");
    await run("get /openapi.json", "/openapi.json");
    // The health route is at the root, outside the prefixes.
    observed.set("get /health", (await api.call("GET", "/health")).status);
    // Approve and reject need a process the Backbone admin started.
    ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    await run("post /IdentityDeletionProcesses/Active/Approve", "/IdentityDeletionProcesses/Active/Approve");
    resultOf(await api.call("POST", "/api/v2/IdentityDeletionProcesses/Active/Cancel"));
    ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    await run("post /IdentityDeletionProcesses/Active/Reject", "/IdentityDeletionProcesses/Active/Reject");
    expect([...observed.keys()].sort()).toEqual([...OPERATIONS].sort());
    for (const [operation, status] of observed) {
      expect({ operation, status }).toEqual({ operation, status: successStatusOf(document, operation) });
    }
  });
});
