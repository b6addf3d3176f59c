import {
  createRuntime,
  LocalBackbone,
  lokiStorage,
  MAX_IDENTITY_METADATA_KEY_LENGTH,
  MAX_JSON_DEPTH,
} from "../src/index";
import type { Result, Runtime, RuntimeError, StorageAdapter } from "../src/index";
import {
  CODE,
  delegating,
  err,
  ok,
  recordEvents,
  testStorage,
  UNKNOWN_ADDRESS,
  worldPerTest,
} from "./support";

const w = worldPerTest();

describe("upsertIdentityMetadata", () => {
  test("creates a record about the own address with an IDM id and returns it", async () => {
    const rt = await w.runtime();
    const created = ok(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: { a: 1 } }),
    );
    expect(created.id).toMatch(/^IDM[A-Za-z0-9]{17}$/);
    expect(created).toStrictEqual({
      id: created.id,
      reference: rt.address,
      value: { a: 1 },
    });
    expect("key" in created).toBe(false);
    expect(ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address }))).toStrictEqual(
      created,
    );
  });

  test("updates the slot in place: same id, only the value replaced, no second record", async () => {
    const rt = await w.runtime();
    const first = ok(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, key: "k", value: 1 }),
    );
    const second = ok(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, key: "k", value: { v: 2 } }),
    );
    expect(second).toStrictEqual({ id: first.id, reference: rt.address, key: "k", value: { v: 2 } });
    expect(
      ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address, key: "k" })),
    ).toStrictEqual(second);
    ok(await rt.identityMetadata.deleteIdentityMetadata({ reference: rt.address, key: "k" }));
    expect(err(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address, key: "k" })).code).toBe(
      CODE.identityMetadataNotFound,
    );
  });

  test("no key, the empty key and a named key are three different slots", async () => {
    const rt = await w.runtime();
    const ref = rt.address;
    const none = ok(await rt.identityMetadata.upsertIdentityMetadata({ reference: ref, value: "none" }));
    const empty = ok(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: ref, key: "", value: "empty" }),
    );
    const named = ok(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: ref, key: "null", value: "named" }),
    );
    expect(new Set([none.id, empty.id, named.id]).size).toBe(3);
    expect(empty.key).toBe("");
    expect(ok(await rt.identityMetadata.getIdentityMetadata({ reference: ref })).value).toBe("none");
    expect(ok(await rt.identityMetadata.getIdentityMetadata({ reference: ref, key: "" })).value).toBe(
      "empty",
    );
    expect(ok(await rt.identityMetadata.getIdentityMetadata({ reference: ref, key: "null" })).value).toBe(
      "named",
    );
  });

  test("a query without a key never matches keyed records", async () => {
    const rt = await w.runtime();
    ok(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, key: "k", value: 1 }));
    const error = err(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address }));
    expect(error.code).toBe(CODE.identityMetadataNotFound);
    expect(error.message).toContain(rt.address);
    expect(err(await rt.identityMetadata.deleteIdentityMetadata({ reference: rt.address })).code).toBe(
      CODE.identityMetadataNotFound,
    );
  });

  test("keys that look like separators or JSON do not collide", async () => {
    const rt = await w.runtime();
    const keys = ['","', "[null]", '"', "\u0000", " "];
    for (const key of keys)
      ok(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, key, value: key }));
    for (const key of keys) {
      expect(ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address, key })).value).toBe(
        key,
      );
    }
  });

  test("concurrent upserts on one slot leave exactly one record with one id", async () => {
    const rt = await w.runtime();
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, key: "k", value: i }),
      ),
    );
    const ids = new Set(results.map((r) => ok(r).id));
    expect(ids.size).toBe(1);
    const stored = ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address, key: "k" }));
    expect([...ids]).toEqual([stored.id]);
    ok(await rt.identityMetadata.deleteIdentityMetadata({ reference: rt.address, key: "k" }));
    expect(
      err(await rt.identityMetadata.deleteIdentityMetadata({ reference: rt.address, key: "k" })).code,
    ).toBe(CODE.identityMetadataNotFound);
  });
});

describe("familiarity", () => {
  test("an address that is neither the own one nor a peer is refused, and nothing is stored", async () => {
    const rt = await w.runtime();
    const error = err(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: UNKNOWN_ADDRESS, value: 1 }),
    );
    expect(error.code).toBe(CODE.unfamiliarReferencedIdentity);
    expect(error.message).toContain(UNKNOWN_ADDRESS);
    expect(err(await rt.identityMetadata.getIdentityMetadata({ reference: UNKNOWN_ADDRESS })).code).toBe(
      CODE.identityMetadataNotFound,
    );
  });

  test("another identity on the same backbone without a relationship is unfamiliar", async () => {
    const a = await w.runtime();
    const b = await w.runtime();
    expect(
      err(await a.identityMetadata.upsertIdentityMetadata({ reference: b.address, value: 1 })).code,
    ).toBe(CODE.unfamiliarReferencedIdentity);
  });

  test.each(["Pending", "Active", "Rejected", "Revoked", "Terminated", "DeletionProposed"] as const)(
    "the peer of a %s relationship is familiar, on both sides",
    async (status) => {
      const { a, b, relationshipId } = await w.connected(
        status !== "Active" && status !== "Terminated" && status !== "DeletionProposed",
      );
      if (status === "Rejected") ok(await a.relationships.rejectRelationship({ relationshipId }));
      if (status === "Revoked") ok(await b.relationships.revokeRelationship({ relationshipId }));
      if (status === "Terminated" || status === "DeletionProposed")
        ok(await a.relationships.terminateRelationship({ relationshipId }));
      if (status === "DeletionProposed") ok(await b.relationships.decomposeRelationship({ relationshipId }));
      expect(ok(await a.relationships.getRelationship({ id: relationshipId })).status).toBe(status);
      ok(await a.identityMetadata.upsertIdentityMetadata({ reference: b.address, value: status }));
      if (status !== "DeletionProposed")
        ok(await b.identityMetadata.upsertIdentityMetadata({ reference: a.address, value: status }));
    },
  );

  test("get and delete do no familiarity check: they answer notFound", async () => {
    const rt = await w.runtime();
    expect(
      err(await rt.identityMetadata.getIdentityMetadata({ reference: UNKNOWN_ADDRESS, key: "k" })).code,
    ).toBe(CODE.identityMetadataNotFound);
    expect(err(await rt.identityMetadata.deleteIdentityMetadata({ reference: UNKNOWN_ADDRESS })).code).toBe(
      CODE.identityMetadataNotFound,
    );
  });
});

describe("getIdentityMetadata and deleteIdentityMetadata", () => {
  test("delete removes exactly the named slot and leaves the others", async () => {
    const { a, b } = await w.connected();
    for (const key of [undefined, "", "x"]) {
      ok(
        await a.identityMetadata.upsertIdentityMetadata({
          reference: b.address,
          ...(key === undefined ? {} : { key }),
          value: key ?? "none",
        }),
      );
    }
    ok(await a.identityMetadata.upsertIdentityMetadata({ reference: a.address, key: "x", value: "own" }));
    expect(
      ok(await a.identityMetadata.deleteIdentityMetadata({ reference: b.address, key: "" })),
    ).toBeUndefined();
    expect(err(await a.identityMetadata.getIdentityMetadata({ reference: b.address, key: "" })).code).toBe(
      CODE.identityMetadataNotFound,
    );
    expect(ok(await a.identityMetadata.getIdentityMetadata({ reference: b.address })).value).toBe("none");
    expect(ok(await a.identityMetadata.getIdentityMetadata({ reference: b.address, key: "x" })).value).toBe(
      "x",
    );
    expect(ok(await a.identityMetadata.getIdentityMetadata({ reference: a.address, key: "x" })).value).toBe(
      "own",
    );
  });

  test("deleting a missing slot answers notFound naming reference and key", async () => {
    const rt = await w.runtime();
    const error = err(
      await rt.identityMetadata.deleteIdentityMetadata({ reference: rt.address, key: "gone" }),
    );
    expect(error.code).toBe(CODE.identityMetadataNotFound);
    expect(error.message).toContain(rt.address);
    expect(error.message).toContain('"gone"');
  });

  test("metadata is scoped to its runtime: another identity does not see it", async () => {
    const { a, b } = await w.connected();
    ok(await a.identityMetadata.upsertIdentityMetadata({ reference: b.address, value: "a's note" }));
    expect(err(await b.identityMetadata.getIdentityMetadata({ reference: b.address })).code).toBe(
      CODE.identityMetadataNotFound,
    );
  });
});

describe("values", () => {
  const values: [string, unknown][] = [
    ["a string", "text ✓ 🦄"],
    ["zero", 0],
    ["a negative float", -12.75],
    ["true", true],
    ["false", false],
    ["null", null],
    ["an empty object", {}],
    ["an empty array", []],
    ["an array of mixed values", [1, "two", null, { three: [3] }, false]],
    ["an object with a top-level @type", { "@type": "Person", name: "Ada", nested: { "@type": "Address" } }],
    [
      "an object with __proto__ and constructor as data",
      JSON.parse('{"__proto__":{"polluted":true},"constructor":"c"}'),
    ],
    ["a deeply nested object", JSON.parse("[".repeat(200) + "]".repeat(200))],
  ];

  test.each(values)("%s round-trips exactly through upsert and get", async (_label, value) => {
    const rt = await w.runtime();
    const stored = ok(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: value }),
    );
    expect(stored.value).toStrictEqual(value);
    expect(ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address })).value).toStrictEqual(
      value,
    );
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  test("stored values are isolated from the caller's objects, both ways", async () => {
    const rt = await w.runtime();
    const input = { list: [1, 2] };
    const returned = ok(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: input }),
    );
    input.list.push(3);
    (returned.value as { list: number[] }).list.push(4);
    const read = ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address }));
    expect(read.value).toStrictEqual({ list: [1, 2] });
    (read.value as { list: number[] }).list.push(5);
    expect(ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address })).value).toStrictEqual({
      list: [1, 2],
    });
  });

  class Point {
    constructor(readonly x: number) {}
  }
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic["self"] = cyclic;
  const invalid: [string, unknown, string][] = [
    ["a function", () => 1, "value"],
    ["a symbol", Symbol("s"), "value"],
    ["a BigInt", BigInt(1), "value"],
    ["NaN", Number.NaN, "value"],
    ["Infinity", Number.POSITIVE_INFINITY, "value"],
    ["a Date", new Date(), "value"],
    ["a Map", new Map(), "value"],
    ["a class instance", new Point(1), "value"],
    ["a cycle", cyclic, "value"],
    // eslint-disable-next-line no-sparse-arrays -- a hole is exactly what this case feeds in
    ["a sparse array", [1, , 3], "value[1]"],
    ["undefined nested in an object", { a: { b: undefined } }, "value.a.b"],
    ["undefined in an array", [undefined], "value[0]"],
    ["a nested function", { f: () => 1 }, "value.f"],
  ];

  test.each(invalid)(
    "%s is refused as invalid, naming %s, and changes nothing",
    async (_label, value, property) => {
      const rt = await w.runtime();
      const original = ok(
        await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: "original" }),
      );
      const error = err(
        await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: value }),
      );
      expect(error.code).toBe(CODE.invalidPropertyValue);
      expect(error.message).toContain(property);
      expect(ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address }))).toStrictEqual(
        original,
      );
    },
  );

  test("a value of exactly the size limit is accepted and one byte more is refused", async () => {
    const rt = await w.runtime({ maxIdentityMetadataValueBytes: 100 });
    const fits = "é".repeat(49); // 98 bytes of UTF-8 + 2 quotes = 100
    ok(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: fits }));
    const error = err(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: fits + "a" }),
    );
    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toContain("value");
    expect(error.message).toContain("100 bytes");
    expect(ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address })).value).toBe(fits);
  });

  test("the default limit is 1 MiB of serialized JSON", async () => {
    const rt = await w.runtime();
    const limit = 1024 * 1024;
    ok(
      await rt.identityMetadata.upsertIdentityMetadata({
        reference: rt.address,
        value: "x".repeat(limit - 2),
      }),
    );
    const error = err(
      await rt.identityMetadata.upsertIdentityMetadata({
        reference: rt.address,
        value: "x".repeat(limit - 1),
      }),
    );
    expect(error.code).toBe(CODE.invalidPropertyValue);
  });
});

describe("validation of requests", () => {
  const malformed: [string, unknown, string][] = [
    ["a missing reference", { value: 1 }, "reference"],
    ["a reference that is not a string", { reference: 42, value: 1 }, "reference"],
    ["an address embedded in other text", { reference: ` ${UNKNOWN_ADDRESS} `, value: 1 }, "reference"],
    ["an address with upper-case hex", { reference: UNKNOWN_ADDRESS.toUpperCase(), value: 1 }, "reference"],
    [
      "an address with too few hex characters",
      { reference: UNKNOWN_ADDRESS.slice(0, -1), value: 1 },
      "reference",
    ],
    [
      "a host with a numeric TLD",
      { reference: "did:e:example.123:dids:0123456789abcdef012345", value: 1 },
      "reference",
    ],
    ["a key that is not a string", { reference: UNKNOWN_ADDRESS, key: 7, value: 1 }, "key"],
    ["a missing value", { reference: UNKNOWN_ADDRESS }, "value"],
    ["an unknown property", { reference: UNKNOWN_ADDRESS, value: 1, extra: true }, "extra"],
  ];

  test.each(malformed)("%s is refused naming the property %s", async (_label, request, property) => {
    const rt = await w.runtime();
    const error = err(await rt.identityMetadata.upsertIdentityMetadata(request as never));
    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toContain(property);
  });

  test("a malformed request changes nothing that is stored", async () => {
    const rt = await w.runtime();
    const stored = ok(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, key: "k", value: 1 }),
    );
    err(
      await rt.identityMetadata.upsertIdentityMetadata({
        reference: rt.address,
        key: "k",
        value: 2,
        extra: 1,
      } as never),
    );
    err(await rt.identityMetadata.deleteIdentityMetadata({ reference: rt.address, key: 5 } as never));
    expect(
      ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address, key: "k" })),
    ).toStrictEqual(stored);
  });

  test("addresses on DNS hosts are valid references", async () => {
    const rt = await w.runtime();
    for (const host of ["example.com", "sub.example-host.org", "a.b.c.de"]) {
      const reference = `did:e:${host}:dids:0123456789abcdef012345`;
      expect(err(await rt.identityMetadata.getIdentityMetadata({ reference })).code).toBe(
        CODE.identityMetadataNotFound,
      );
    }
  });
});

describe("limits, the same on every storage", () => {
  test(`a key of ${MAX_IDENTITY_METADATA_KEY_LENGTH} characters is a slot like any other, even of wide and escaped characters`, async () => {
    const { a, b } = await w.connected();
    const keys = [
      "k".repeat(MAX_IDENTITY_METADATA_KEY_LENGTH),
      "😀".repeat(MAX_IDENTITY_METADATA_KEY_LENGTH / 2),
      "\u0001".repeat(MAX_IDENTITY_METADATA_KEY_LENGTH),
      "\u{10ffff}".repeat(MAX_IDENTITY_METADATA_KEY_LENGTH / 2),
    ];
    for (const key of keys) {
      const stored = ok(
        await a.identityMetadata.upsertIdentityMetadata({ reference: b.address, key, value: 1 }),
      );
      expect(ok(await a.identityMetadata.getIdentityMetadata({ reference: b.address, key }))).toStrictEqual(
        stored,
      );
      ok(await a.identityMetadata.deleteIdentityMetadata({ reference: b.address, key }));
    }
  });

  test("a key one character over the limit is refused naming key, by upsert, get and delete, and nothing is stored", async () => {
    const rt = await w.runtime();
    const key = "k".repeat(MAX_IDENTITY_METADATA_KEY_LENGTH + 1);
    const answers: Result<unknown, RuntimeError>[] = [
      await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, key, value: 1 }),
      await rt.identityMetadata.getIdentityMetadata({ reference: rt.address, key }),
      await rt.identityMetadata.deleteIdentityMetadata({ reference: rt.address, key }),
    ];
    for (const answer of answers) {
      const error = err(answer);
      expect(error.code).toBe(CODE.invalidPropertyValue);
      expect(error.message).toBe(
        `key must be at most ${MAX_IDENTITY_METADATA_KEY_LENGTH} characters long, not ${MAX_IDENTITY_METADATA_KEY_LENGTH + 1}`,
      );
    }
    const shorter = key.slice(1);
    expect(
      err(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address, key: shorter })).code,
    ).toBe(CODE.identityMetadataNotFound);
  });

  test("a key with a lone surrogate is refused: no query string could name it again", async () => {
    const rt = await w.runtime();
    for (const key of ["\ud800", "a\udc00b", "\udbff"]) {
      const error = err(
        await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, key, value: 1 }),
      );
      expect(error.code).toBe(CODE.invalidPropertyValue);
      expect(error.message).toContain("key must be well-formed Unicode");
    }
  });

  test("an address whose host is longer than DNS allows (253 characters) is refused", async () => {
    const rt = await w.runtime();
    const host = (length: number) => `${"a.".repeat((length - 3) / 2)}com`;
    expect(host(253)).toHaveLength(253);
    const at = (length: number) => `did:e:${host(length)}:dids:0123456789abcdef012345`;
    expect(err(await rt.identityMetadata.getIdentityMetadata({ reference: at(253) })).code).toBe(
      CODE.identityMetadataNotFound,
    );
    expect(err(await rt.identityMetadata.getIdentityMetadata({ reference: at(255) })).code).toBe(
      CODE.invalidPropertyValue,
    );
    expect(() => new LocalBackbone({ host: host(255) })).toThrow(RangeError);
  });

  const nested = (levels: number): unknown => {
    let value: unknown = "bottom";
    for (let level = 0; level < levels; level++) value = level % 2 === 0 ? [value] : { inner: value };
    return value;
  };

  test(`a value nested ${MAX_JSON_DEPTH} levels deep round-trips; one level more is refused naming value and the limit`, async () => {
    const rt = await w.runtime();
    const deepest = nested(MAX_JSON_DEPTH);
    expect(
      ok(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: deepest })).value,
    ).toStrictEqual(deepest);
    const error = err(
      await rt.identityMetadata.upsertIdentityMetadata({
        reference: rt.address,
        key: "k",
        value: nested(MAX_JSON_DEPTH + 1),
      }),
    );
    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toMatch(/^value\[0\]\.inner.* must not be nested deeper than 256 levels$/);
    expect(err(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address, key: "k" })).code).toBe(
      CODE.identityMetadataNotFound,
    );
  });

  test("values nested 5,000 and 100,000 levels deep are validation errors, not stack overflows", async () => {
    const rt = await w.runtime();
    for (const levels of [5_000, 100_000]) {
      const error = err(
        await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: nested(levels) }),
      );
      expect({
        code: error.code,
        message: error.message.endsWith(`nested deeper than ${MAX_JSON_DEPTH} levels`),
      }).toEqual({
        code: CODE.invalidPropertyValue,
        message: true,
      });
    }
  });
});

describe("hostile requests are read once and cannot change after validation", () => {
  test("a request whose getter throws is a validation error naming the failure, and nothing is stored", async () => {
    const rt = await w.runtime();
    const request = {
      reference: rt.address,
      get value(): unknown {
        throw new Error("getter exploded");
      },
    };
    const error = err(await rt.identityMetadata.upsertIdentityMetadata(request));
    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toContain("getter exploded");
    expect(err(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address })).code).toBe(
      CODE.identityMetadataNotFound,
    );
  });

  test("a value whose nested getter or Proxy trap throws is a validation error naming where", async () => {
    const rt = await w.runtime();
    const trap = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error("trap exploded");
        },
      },
    );
    const getter = {
      list: [
        {
          get deep(): unknown {
            throw new Error("deep getter");
          },
        },
      ],
    };
    for (const [value, where] of [
      [trap, "value"],
      [getter, "value.list[0].deep"],
    ] as const) {
      const error = err(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value }));
      expect(error.code).toBe(CODE.invalidPropertyValue);
      expect(error.message.startsWith(`${where} could not be read`)).toBe(true);
    }
    const proxyRequest = new Proxy(
      { reference: rt.address, value: 1 },
      {
        getPrototypeOf: () => {
          throw new Error("no prototype");
        },
      },
    );
    expect(err(await rt.identityMetadata.upsertIdentityMetadata(proxyRequest)).code).toBe(
      CODE.invalidPropertyValue,
    );
  });

  test("a getter that answers differently on every read: what is stored is what was checked, read once", async () => {
    const rt = await w.runtime();
    let reads = 0;
    const value = {
      get size(): unknown {
        reads++;
        // First a valid number, then something that is not JSON at all.
        return reads === 1 ? 1 : () => "not JSON";
      },
    };
    const stored = ok(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value }));
    expect(reads).toBe(1);
    expect(stored.value).toStrictEqual({ size: 1 });
    expect(ok(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address })).value).toStrictEqual({
      size: 1,
    });
  });

  test("an object whose prototype is a bare object carrying toJSON is not plain JSON: refused", async () => {
    const rt = await w.runtime();
    const prototype = Object.create(null) as Record<string, unknown>;
    prototype["toJSON"] = () => "something else";
    const value = Object.create(prototype) as Record<string, unknown>;
    value["shown"] = 1;
    const error = err(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value }));
    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toContain("plain JSON object");
  });
});

describe("familiarity is an index lookup", () => {
  test("upserting about a peer asks the storage whether a relationship exists, it never reads the relationships", async () => {
    const { a, b } = await w.connected();
    const listed: string[] = [];
    const inner = lokiStorage();
    // A runtime on a storage that records which collections are read in full by peer.
    const counting = delegating(inner, (target) => ({
      listByPeer: (collection, peer) => (listed.push(collection), target.listByPeer(collection, peer)),
    }));
    const c = await createRuntime({ backbone: w.backbone, storage: counting });
    try {
      const template = ok(await b.relationships.createOwnRelationshipTemplate());
      ok(await c.relationships.createRelationship({ templateId: template.id }));
      listed.length = 0;
      ok(await c.identityMetadata.upsertIdentityMetadata({ reference: b.address, value: 1 }));
      expect(listed).toEqual([]);
      expect(
        err(await c.identityMetadata.upsertIdentityMetadata({ reference: a.address, value: 1 })).code,
      ).toBe(CODE.unfamiliarReferencedIdentity);
      expect(listed).toEqual([]);
    } finally {
      await c.close();
    }
  });
});

describe("facades never throw or reject", () => {
  const garbage: unknown[] = [
    undefined,
    null,
    0,
    "text",
    [],
    [1],
    () => 1,
    Symbol("s"),
    new Date(),
    Object.create(null),
  ];

  /** A method that takes no request, called with one anyway (facade methods are bound, so this is fair). */
  const withAnyArgument =
    (method: (...args: never[]) => Promise<{ ok: boolean }>) =>
    (request: unknown): Promise<{ ok: boolean }> =>
      (method as (request: unknown) => Promise<{ ok: boolean }>)(request);

  test("every facade method resolves to a Result for garbage requests", async () => {
    const rt = await w.runtime();
    const calls: ((request: unknown) => Promise<{ ok: boolean }>)[] = [
      (r) => rt.identityMetadata.upsertIdentityMetadata(r as never),
      (r) => rt.identityMetadata.getIdentityMetadata(r as never),
      (r) => rt.identityMetadata.deleteIdentityMetadata(r as never),
      (r) => rt.relationships.createOwnRelationshipTemplate(r as never),
      (r) => rt.relationships.getRelationshipTemplate(r as never),
      (r) => rt.relationships.canCreateRelationship(r as never),
      (r) => rt.relationships.createRelationship(r as never),
      (r) => rt.relationships.acceptRelationship(r as never),
      (r) => rt.relationships.rejectRelationship(r as never),
      (r) => rt.relationships.revokeRelationship(r as never),
      (r) => rt.relationships.terminateRelationship(r as never),
      (r) => rt.relationships.decomposeRelationship(r as never),
      (r) => rt.relationships.getRelationship(r as never),
      (r) => rt.relationships.getRelationships(r as never),
      (r) => rt.messages.sendMessage(r as never),
      withAnyArgument(rt.messages.getMessages),
      withAnyArgument(rt.relationships.getRelationshipTemplates),
      (r) => rt.identityDeletion.initiateIdentityDeletionProcess(r as never),
      (r) => rt.identityDeletion.getIdentityDeletionProcess(r as never),
      withAnyArgument(rt.identityDeletion.getIdentityDeletionProcesses),
      withAnyArgument(rt.identityDeletion.getActiveIdentityDeletionProcess),
      withAnyArgument(rt.identityDeletion.approveIdentityDeletionProcess),
      withAnyArgument(rt.identityDeletion.rejectIdentityDeletionProcess),
      withAnyArgument(rt.identityDeletion.checkIfIdentityIsDeleted),
      (r) => rt.requests.canCreateOutgoingRequest(r as never),
      (r) => rt.requests.createOutgoingRequest(r as never),
      (r) => rt.requests.getRequest(r as never),
      withAnyArgument(rt.requests.getOutgoingRequests),
      withAnyArgument(rt.requests.getIncomingRequests),
      (r) => rt.requests.canAcceptIncomingRequest(r as never),
      (r) => rt.requests.canRejectIncomingRequest(r as never),
      (r) => rt.requests.acceptIncomingRequest(r as never),
      (r) => rt.requests.rejectIncomingRequest(r as never),
      withAnyArgument(rt.eraseLocalData),
    ];
    for (const call of calls) {
      for (const request of garbage) {
        const result = await call(request);
        expect(typeof result.ok).toBe("boolean");
      }
    }
  });

  test("an exception inside the storage becomes error.runtime.unknown, not a rejection", async () => {
    const storage = lokiStorage();
    const failing: StorageAdapter = delegating(storage, (_target) => ({
      getBySlot: () => Promise.reject(new Error("disk on fire")),
    }));
    const rt = await createRuntime({ backbone: w.backbone, storage: failing });
    try {
      const error = err(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address }));
      expect(error.code).toBe("error.runtime.unknown");
      expect(error.message).toContain("disk on fire");
    } finally {
      await rt.close();
    }
  });
});

describe("decomposition removes the metadata about the peer", () => {
  async function decomposedWorld() {
    const { a, b, relationshipId } = await w.connected();
    const c = await w.runtime();
    const templateOfC = ok(await c.relationships.createOwnRelationshipTemplate());
    const toC = ok(await a.relationships.createRelationship({ templateId: templateOfC.id }));
    for (const key of [undefined, "", "crm"]) {
      ok(
        await a.identityMetadata.upsertIdentityMetadata({
          reference: b.address,
          ...(key === undefined ? {} : { key }),
          value: 1,
        }),
      );
    }
    ok(await a.identityMetadata.upsertIdentityMetadata({ reference: a.address, value: "own" }));
    ok(await a.identityMetadata.upsertIdentityMetadata({ reference: c.address, value: "c" }));
    ok(await b.identityMetadata.upsertIdentityMetadata({ reference: a.address, value: "b about a" }));
    ok(await a.relationships.terminateRelationship({ relationshipId }));
    return { a, b, c, relationshipId, toC };
  }

  test("every key about the peer goes; own and other peers' metadata stay; the peer keeps its own", async () => {
    const { a, b, c, relationshipId } = await decomposedWorld();
    const events = recordEvents(a, "transport.relationshipDecomposedBySelf");
    ok(await a.relationships.decomposeRelationship({ relationshipId }));
    for (const key of [undefined, "", "crm"]) {
      const slot = { reference: b.address, ...(key === undefined ? {} : { key }) };
      expect(err(await a.identityMetadata.getIdentityMetadata(slot)).code).toBe(
        CODE.identityMetadataNotFound,
      );
    }
    expect(ok(await a.identityMetadata.getIdentityMetadata({ reference: a.address })).value).toBe("own");
    expect(ok(await a.identityMetadata.getIdentityMetadata({ reference: c.address })).value).toBe("c");
    expect(events.map((e) => e.data)).toEqual([{ relationshipId }]);
    // The peer's side only became DeletionProposed: its metadata about us is not touched.
    expect(ok(await b.relationships.getRelationship({ id: relationshipId })).status).toBe("DeletionProposed");
    expect(ok(await b.identityMetadata.getIdentityMetadata({ reference: a.address })).value).toBe(
      "b about a",
    );
    // And the decomposed peer is no longer familiar.
    expect(
      err(await a.identityMetadata.upsertIdentityMetadata({ reference: b.address, value: 1 })).code,
    ).toBe(CODE.unfamiliarReferencedIdentity);
  });

  test("a storage failure in the middle of a decomposition leaves the relationship and the metadata untouched", async () => {
    // On the storage the suite runs on (LokiJS, SQLite or PostgreSQL): the decomposition's unit of work fails
    // half-way, on a write that another record's slot refuses, after the adapter has applied the first change.
    const { storage, dispose } = testStorage();
    await storage.commit([
      { kind: "put", collection: "fault", record: { id: "holder", slot: "taken", data: "{}" } },
    ]);
    const collide = {
      kind: "put",
      collection: "fault",
      record: { id: "intruder", slot: "taken", data: "{}" },
    } as const;
    let failCommits = false;
    const flaky: StorageAdapter = delegating(storage, (target) => ({
      commit: (changes) =>
        failCommits && changes.length > 1
          ? target.commit([...changes.slice(0, 1), collide, ...changes.slice(1)])
          : target.commit(changes),
    }));
    const a = await createRuntime({ backbone: w.backbone, storage: flaky });
    try {
      const b = await w.runtime();
      const template = ok(await b.relationships.createOwnRelationshipTemplate());
      const { id } = ok(await a.relationships.createRelationship({ templateId: template.id }));
      ok(await b.relationships.acceptRelationship({ relationshipId: id }));
      ok(await a.identityMetadata.upsertIdentityMetadata({ reference: b.address, value: "keep" }));
      ok(await a.relationships.terminateRelationship({ relationshipId: id }));
      failCommits = true;
      expect(err(await a.relationships.decomposeRelationship({ relationshipId: id })).code).toBe(
        "error.runtime.unknown",
      );
      expect(ok(await a.relationships.getRelationship({ id })).status).toBe("Terminated");
      expect(ok(await a.identityMetadata.getIdentityMetadata({ reference: b.address })).value).toBe("keep");
      // Once the storage works again, the same call completes the decomposition.
      failCommits = false;
      ok(await a.relationships.decomposeRelationship({ relationshipId: id }));
      expect(err(await a.relationships.getRelationship({ id })).code).toBe("error.runtime.recordNotFound");
      expect(err(await a.identityMetadata.getIdentityMetadata({ reference: b.address })).code).toBe(
        CODE.identityMetadataNotFound,
      );
      expect(ok(await b.relationships.getRelationship({ id })).status).toBe("DeletionProposed");
    } finally {
      await a.close();
      await dispose();
    }
  });
});

export type { Runtime };
