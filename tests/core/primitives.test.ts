import { runInNewContext } from "node:vm";
import { copyJson, isPlainObject } from "../../src/core/json";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateId, idPattern } from "../../src/core/ids";
import { ADDRESS_PATTERN, createAddress, isAddress, isHost } from "../../src/core/address";
import { ManualClock, SystemClock } from "../../src/index";
import { ErrorCodes, HttpErrorCodes, RuntimeError, statusOfCode } from "../../src/index";
import { errResult, fail, unexpected } from "../../src/core/errors";

describe("ids", () => {
  test.each(["IDM", "RLT", "REL", "MSG", "REQ", "IDP"] as const)(
    "%s ids are the prefix and 17 of [A-Za-z0-9]",
    (prefix) => {
      for (let i = 0; i < 200; i++) expect(generateId(prefix)).toMatch(idPattern(prefix));
    },
  );

  test("ids do not repeat and use the whole alphabet", () => {
    const ids = Array.from({ length: 20_000 }, () => generateId("IDM"));
    expect(new Set(ids).size).toBe(ids.length);
    const characters = new Set(ids.join("").replaceAll("IDM", ""));
    expect(characters.size).toBe(62);
  });

  test("id patterns are anchored", () => {
    const id = generateId("REL");
    expect(idPattern("REL").test(`x${id}`)).toBe(false);
    expect(idPattern("REL").test(`${id}x`)).toBe(false);
    expect(idPattern("IDM").test(id)).toBe(false);
  });
});

describe("addresses", () => {
  test("created addresses match the pattern, with the backbone's host", () => {
    const address = createAddress("example.com");
    expect(address).toMatch(/^did:e:example\.com:dids:[0-9a-f]{22}$/);
    expect(isAddress(address)).toBe(true);
    expect(isAddress(createAddress("localhost"))).toBe(true);
  });

  test.each([
    "did:e:localhost:dids:0123456789abcdef01234",
    "did:e:localhost:dids:0123456789abcdef0123456",
    "did:e:localhost:dids:0123456789abcdef01234g",
    "did:e:LOCALHOST:dids:0123456789abcdef012345",
    "did:e:-bad.com:dids:0123456789abcdef012345",
    "did:e:bad-.com:dids:0123456789abcdef012345",
    "did:e:example.c:dids:0123456789abcdef012345",
    "did:e:example.COM:dids:0123456789abcdef012345",
    "did:e:example:dids:0123456789abcdef012345",
    "prefix did:e:localhost:dids:0123456789abcdef012345",
    "did:e:localhost:dids:0123456789abcdef012345\n",
  ])("%j is not an address", (candidate) => {
    expect(isAddress(candidate)).toBe(false);
    expect(ADDRESS_PATTERN.test(candidate)).toBe(false);
  });

  test("hosts: localhost and DNS names only", () => {
    expect(isHost("localhost")).toBe(true);
    expect(isHost("my-backbone.example.org")).toBe(true);
    expect(isHost("under_score.com")).toBe(false);
    expect(isHost("")).toBe(false);
  });
});

describe("clocks", () => {
  test("a ManualClock stands still until advanced, by every unit", () => {
    const clock = new ManualClock(new Date("2030-01-01T00:00:00.000Z"));
    expect(clock.now().toISOString()).toBe("2030-01-01T00:00:00.000Z");
    clock.advance({ days: 1, hours: 2, minutes: 3, seconds: 4, ms: 5 });
    expect(clock.now().toISOString()).toBe("2030-01-02T02:03:04.005Z");
    clock.set(new Date("2031-06-01T00:00:00.000Z"));
    expect(clock.now().toISOString()).toBe("2031-06-01T00:00:00.000Z");
  });

  test("now() returns a new Date each time, so callers cannot move the clock", () => {
    const clock = new ManualClock(new Date(0));
    clock.now().setFullYear(2050);
    expect(clock.now().getTime()).toBe(0);
  });

  test("advancing by a non-finite amount is refused", () => {
    expect(() => new ManualClock().advance({ days: Number.NaN })).toThrow(RangeError);
  });

  test("the SystemClock reads the real time", () => {
    const before = Date.now();
    const now = new SystemClock().now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe("errors", () => {
  test("ErrorCodes lists every code exactly once, each a dotted error.* string", () => {
    expect(new Set(ErrorCodes).size).toBe(ErrorCodes.length);
    for (const code of ErrorCodes) expect(code).toMatch(/^error\.[a-z]+\.[A-Za-z.]+$/);
    expect(ErrorCodes).toEqual(
      expect.arrayContaining([
        "error.runtime.validation.invalidPropertyValue",
        "error.runtime.identityMetadata.notFound",
        "error.runtime.identityMetadata.unfamiliarReferencedIdentity",
        "error.runtime.recordNotFound",
      ]),
    );
  });

  test("fail builds an Err carrying a RuntimeError with the code and its message", () => {
    const result = fail("error.runtime.recordNotFound", "Relationship", "REL123");
    expect(result.err).toBe(true);
    expect(result.val).toBeInstanceOf(RuntimeError);
    expect(result.val.code).toBe("error.runtime.recordNotFound");
    expect(result.val.message).toBe('Relationship "REL123" was not found.');
    expect(JSON.parse(JSON.stringify(result.val))).toEqual({
      code: result.val.code,
      message: result.val.message,
    });
  });

  test("an Err built here carries no stack trace and leaves the stack limit as it was", () => {
    const limit = Error.stackTraceLimit;
    const result = errResult(new RuntimeError("error.runtime.unknown", "x"));
    expect(result.stack?.includes("at ")).toBe(false);
    expect(Error.stackTraceLimit).toBe(limit);
  });

  test("unexpected exceptions become error.runtime.unknown and keep their cause", () => {
    const cause = new Error("boom");
    const result = unexpected(cause);
    expect(result.val.code).toBe("error.runtime.unknown");
    expect(result.val.message).toContain("boom");
    expect(result.val.cause).toBe(cause);
  });
});

describe("documentation", () => {
  test("the README's error table lists every code, and no code that does not exist", () => {
    const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
    const documented = new Set(
      [...readme.matchAll(/^\|\s*`(error\.[^`]+)`\s*\|/gm)].map((match) => match[1]),
    );
    expect([...documented].sort()).toEqual([...ErrorCodes, ...HttpErrorCodes].sort());
  });
});

describe("HTTP statuses", () => {
  test("every code has its status: not found 404, conflicts 409, storage and closed 503, unknown 500, not modelled 501", () => {
    const statuses = Object.fromEntries(
      [...ErrorCodes, ...HttpErrorCodes].map((code) => [code, statusOfCode(code)]),
    );
    expect(statuses).toMatchObject({
      "error.runtime.identityMetadata.notFound": 404,
      "error.runtime.recordNotFound": 404,
      "error.runtime.identityDeletionProcess.noActiveIdentityDeletionProcess": 404,
      "error.runtime.identityDeletionProcess.activeIdentityDeletionProcessAlreadyExists": 409,
      "error.runtime.identityDeleted": 409,
      "error.runtime.storage": 503,
      "error.runtime.runtimeClosed": 503,
      "error.runtime.unknown": 500,
      "error.http.unauthorized": 401,
      "error.http.methodNotAllowed": 405,
      "error.http.payloadTooLarge": 413,
      "error.http.unsupportedMediaType": 415,
      "error.http.notImplemented": 501,
    });
    for (const status of Object.values(statuses))
      expect([400, 401, 404, 405, 409, 413, 415, 500, 501, 503]).toContain(status);
  });

  test("a string that is no code of the library answers 500, whatever it looks like", () => {
    for (const code of ["error.runtime.something.notFound", "__proto__", "constructor", ""]) {
      expect(statusOfCode(code)).toBe(500);
    }
  });
});

describe("JSON values from another realm", () => {
  test("plain objects made in another vm context count as plain, class instances from there do not", () => {
    const foreign = runInNewContext(
      "({ plain: { a: 1 }, nullProto: Object.create(null), instance: new (class P {})() })",
    ) as {
      plain: object;
      nullProto: object;
      instance: object;
    };
    expect(Object.getPrototypeOf(foreign.plain)).not.toBe(Object.prototype);
    expect(isPlainObject(foreign.plain)).toBe(true);
    expect(isPlainObject(foreign.nullProto)).toBe(true);
    expect(isPlainObject(foreign.instance)).toBe(false);
    expect(copyJson(foreign.plain, "value")).toStrictEqual({ value: { a: 1 } });
    expect(copyJson(foreign.instance, "value")).toStrictEqual({
      problem: "value must be a plain JSON object, not P",
    });
  });
});
