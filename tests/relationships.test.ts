import type { RelationshipDTO, RelationshipStatus, Runtime, RuntimeEvent, RuntimeResult } from "../src/index";
import { lokiStorage, ManualClock } from "../src/index";
import {
  CODE,
  delegating,
  err,
  ok,
  recordEvents,
  START,
  UNKNOWN_ADDRESS,
  world,
  worldPerTest,
} from "./support";

const TEMPLATE_ID = /^RLT[A-Za-z0-9]{17}$/;
const RELATIONSHIP_ID = /^REL[A-Za-z0-9]{17}$/;
const UNKNOWN_RELATIONSHIP_ID = "RELAAAAAAAAAAAAAAAAA";
const UNKNOWN_TEMPLATE_ID = "RLTAAAAAAAAAAAAAAAAA";
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const RELATIONSHIP_EVENTS = [
  "transport.relationshipChanged",
  "transport.relationshipDecomposedBySelf",
] as const;

const w = worldPerTest();

/** Each runtime's view of the relationship, or the error code it gets asking for it. */
async function views(relationshipId: string, ...runtimes: Runtime[]): Promise<(RelationshipDTO | string)[]> {
  return Promise.all(
    runtimes.map(async (runtime) => {
      const result = await runtime.relationships.getRelationship({ id: relationshipId });
      return result.ok ? result.val : result.val.code;
    }),
  );
}

/** The relationship's status on each runtime, or the error code it gets asking for it. */
async function statuses(relationshipId: string, ...runtimes: Runtime[]): Promise<string[]> {
  return (await views(relationshipId, ...runtimes)).map((view) =>
    typeof view === "string" ? view : view.status,
  );
}

type Recorded = RuntimeEvent<(typeof RELATIONSHIP_EVENTS)[number]>[];

/** Every relationship-related event on each of the given runtimes, recorded from now on. */
function recordAll<T extends readonly Runtime[]>(...runtimes: T): { [K in keyof T]: Recorded } {
  return runtimes.map((runtime) => recordEvents(runtime, ...RELATIONSHIP_EVENTS)) as {
    [K in keyof T]: Recorded;
  };
}

/** The status each relationshipChanged event carried (other events by name). */
const eventStatuses = (events: Recorded) => events.map((e) => ("status" in e.data ? e.data.status : e.name));

/** A relationship created by `requestor` from a new template of `creator`, brought into `status`. */
async function relate(creator: Runtime, requestor: Runtime, status: RelationshipStatus): Promise<string> {
  const template = ok(await creator.relationships.createOwnRelationshipTemplate());
  const { id } = ok(await requestor.relationships.createRelationship({ templateId: template.id }));
  switch (status) {
    case "Pending":
      break;
    case "Active":
      ok(await creator.relationships.acceptRelationship({ relationshipId: id }));
      break;
    case "Rejected":
      ok(await creator.relationships.rejectRelationship({ relationshipId: id }));
      break;
    case "Revoked":
      ok(await requestor.relationships.revokeRelationship({ relationshipId: id }));
      break;
    case "Terminated":
      ok(await creator.relationships.acceptRelationship({ relationshipId: id }));
      ok(await creator.relationships.terminateRelationship({ relationshipId: id }));
      break;
    case "DeletionProposed":
      // The creator's side is DeletionProposed once the requestor has decomposed.
      ok(await creator.relationships.acceptRelationship({ relationshipId: id }));
      ok(await creator.relationships.terminateRelationship({ relationshipId: id }));
      ok(await requestor.relationships.decomposeRelationship({ relationshipId: id }));
      break;
  }
  return id;
}

describe("createOwnRelationshipTemplate", () => {
  test("returns a template DTO with an RLT id, the own address as creator and the given fields", async () => {
    const a = await w.runtime();
    const content = {
      "@type": "RelationshipTemplateContent",
      title: "Hello",
      nested: [1, null, { x: true }],
    };
    const expiresAt = "2030-02-01T00:00:00.000Z";

    const template = ok(
      await a.relationships.createOwnRelationshipTemplate({ content, expiresAt, maxNumberOfAllocations: 2 }),
    );

    expect(template.id).toMatch(TEMPLATE_ID);
    expect(template).toEqual({
      id: template.id,
      createdBy: a.address,
      createdAt: START.toISOString(),
      expiresAt,
      maxNumberOfAllocations: 2,
      content,
    });
  });

  test("without a request creates a template without optional fields", async () => {
    const a = await w.runtime();

    const template = ok(await a.relationships.createOwnRelationshipTemplate());

    expect(template).toEqual({ id: template.id, createdBy: a.address, createdAt: START.toISOString() });
    expect(template).not.toHaveProperty("expiresAt");
    expect(template).not.toHaveProperty("maxNumberOfAllocations");
    expect(template).not.toHaveProperty("content");
  });

  test("every template gets a new id and is listed by getRelationshipTemplates, oldest first", async () => {
    const a = await w.runtime();

    const first = ok(await a.relationships.createOwnRelationshipTemplate());
    const second = ok(await a.relationships.createOwnRelationshipTemplate({ content: "second" }));

    expect(first.id).not.toBe(second.id);
    expect(ok(await a.relationships.getRelationshipTemplates())).toEqual([first, second]);
    expect(ok(await a.relationships.getRelationshipTemplate({ id: second.id }))).toEqual(second);
  });

  test("expiresAt is judged by the Backbone's clock, even for a runtime given a clock of its own", async () => {
    const early = await w.runtime({ clock: new ManualClock(new Date("2020-01-01T00:00:00.000Z")) });
    // In the past for the Backbone (2030), in the future for the runtime's own clock (2020).
    const error = err(
      await early.relationships.createOwnRelationshipTemplate({ expiresAt: "2025-01-01T00:00:00.000Z" }),
    );
    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toContain("expiresAt");
  });

  test("expiresAt on February 29th of a leap year, with an offset instead of Z, is a date like any other (kept in UTC)", async () => {
    const a = await w.runtime();
    for (const expiresAt of ["2032-02-29T12:00:00.000Z", "2032-02-29T12:00:00+01:00"]) {
      expect(ok(await a.relationships.createOwnRelationshipTemplate({ expiresAt })).expiresAt).toBe(
        new Date(expiresAt).toISOString(),
      );
    }
  });

  describe("rejects malformed requests with a validation error naming the property, creating nothing", () => {
    test.each([
      ["expiresAt in the past", { expiresAt: "2029-12-31T23:59:59.999Z" }, "expiresAt"],
      ["expiresAt equal to now", { expiresAt: START.toISOString() }, "expiresAt"],
      ["expiresAt not a date", { expiresAt: "tomorrow" }, "expiresAt"],
      ["expiresAt a date without a time", { expiresAt: "2031-01-01" }, "expiresAt"],
      ["expiresAt a Date object", { expiresAt: new Date("2031-01-01T00:00:00.000Z") }, "expiresAt"],
      ["expiresAt on February 30th", { expiresAt: "2031-02-30T00:00:00.000Z" }, "expiresAt"],
      ["expiresAt on February 29th of a common year", { expiresAt: "2031-02-29T12:00:00Z" }, "expiresAt"],
      ["expiresAt on April 31st", { expiresAt: "2031-04-31T00:00:00.000Z" }, "expiresAt"],
      ["expiresAt in month 13", { expiresAt: "2031-13-01T00:00:00.000Z" }, "expiresAt"],
      ["expiresAt at hour 24", { expiresAt: "2031-01-01T24:00:00.000Z" }, "expiresAt"],
      ["expiresAt with trailing text", { expiresAt: "2031-01-01T00:00:00.000Z and more" }, "expiresAt"],
      [
        "content nested too deep",
        { content: JSON.parse("[".repeat(300) + "]".repeat(300)) as unknown },
        "content",
      ],
      ["maxNumberOfAllocations 0", { maxNumberOfAllocations: 0 }, "maxNumberOfAllocations"],
      ["maxNumberOfAllocations -1", { maxNumberOfAllocations: -1 }, "maxNumberOfAllocations"],
      ["maxNumberOfAllocations 1.5", { maxNumberOfAllocations: 1.5 }, "maxNumberOfAllocations"],
      ['maxNumberOfAllocations "1"', { maxNumberOfAllocations: "1" }, "maxNumberOfAllocations"],
      ["maxNumberOfAllocations NaN", { maxNumberOfAllocations: Number.NaN }, "maxNumberOfAllocations"],
      ["content not JSON (a function)", { content: () => 1 }, "content"],
      ["content not JSON (NaN inside)", { content: { n: Number.NaN } }, "content.n"],
      ["an unknown property", { title: "x" }, "title"],
      ["not an object", "template", "request"],
    ])("%s", async (_name, request, property) => {
      const a = await w.runtime();
      const [events] = recordAll(a);

      const error = err(await a.relationships.createOwnRelationshipTemplate(request as never));

      expect(error.code).toBe(CODE.invalidPropertyValue);
      expect(error.message).toContain(property);
      expect(ok(await a.relationships.getRelationshipTemplates())).toEqual([]);
      expect(events).toEqual([]);
    });
  });

  test("accepts expiresAt one millisecond in the future", async () => {
    const a = await w.runtime();
    const expiresAt = new Date(START.getTime() + 1).toISOString();

    const template = ok(await a.relationships.createOwnRelationshipTemplate({ expiresAt }));

    expect(template.expiresAt).toBe(expiresAt);
  });
});

describe("getRelationshipTemplate", () => {
  test("loads a peer's template from the Backbone by id and keeps it locally", async () => {
    const a = await w.runtime();
    const c = await w.runtime();
    const template = ok(
      await a.relationships.createOwnRelationshipTemplate({
        content: { hello: "world" },
        maxNumberOfAllocations: 3,
      }),
    );
    expect(ok(await c.relationships.getRelationshipTemplates())).toEqual([]);

    expect(ok(await c.relationships.getRelationshipTemplate({ id: template.id }))).toEqual(template);
    expect(ok(await c.relationships.getRelationshipTemplates())).toEqual([template]);
  });

  test("an unknown template id is error.runtime.recordNotFound naming the id", async () => {
    const c = await w.runtime();

    const error = err(await c.relationships.getRelationshipTemplate({ id: UNKNOWN_TEMPLATE_ID }));

    expect(error.code).toBe(CODE.recordNotFound);
    expect(error.message).toContain(UNKNOWN_TEMPLATE_ID);
    expect(ok(await c.relationships.getRelationshipTemplates())).toEqual([]);
  });

  test.each([["RLT123"], ["RELAAAAAAAAAAAAAAAAA"], [42]])(
    "a malformed id (%p) is a validation error",
    async (id) => {
      const c = await w.runtime();

      const error = err(await c.relationships.getRelationshipTemplate({ id } as never));

      expect(error.code).toBe(CODE.invalidPropertyValue);
      expect(error.message).toContain("id");
    },
  );
});

describe("createRelationship", () => {
  test("creates a Pending relationship with the same REL id on both sides, peer mirrored, Creation audit entry", async () => {
    const a = await w.runtime();
    const b = await w.runtime();
    const template = ok(await a.relationships.createOwnRelationshipTemplate());

    const created = ok(await b.relationships.createRelationship({ templateId: template.id }));

    expect(created.id).toMatch(RELATIONSHIP_ID);
    const auditLog = [
      { createdAt: START.toISOString(), createdBy: b.address, reason: "Creation", newStatus: "Pending" },
    ];
    expect(created).toEqual({
      id: created.id,
      templateId: template.id,
      peer: a.address,
      status: "Pending",
      auditLog,
    });
    expect(created.auditLog[0]).not.toHaveProperty("oldStatus");
    const [aView, bView] = await views(created.id, a, b);
    expect(bView).toEqual(created);
    expect(aView).toEqual({ ...created, peer: b.address });
  });

  test("publishes transport.relationshipChanged on both runtimes before the call resolves", async () => {
    const a = await w.runtime();
    const b = await w.runtime();
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    const [aEvents, bEvents] = recordAll(a, b);

    const created = ok(await b.relationships.createRelationship({ templateId: template.id }));

    expect(aEvents).toEqual([
      {
        name: "transport.relationshipChanged",
        eventTargetAddress: a.address,
        data: { ...created, peer: b.address },
      },
    ]);
    expect(bEvents).toEqual([
      { name: "transport.relationshipChanged", eventTargetAddress: b.address, data: created },
    ]);
  });

  test("creationContent is kept on both sides", async () => {
    const a = await w.runtime();
    const b = await w.runtime();
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    const creationContent = { "@type": "ArbitraryRelationshipCreationContent", value: { answer: 42 } };

    const created = ok(
      await b.relationships.createRelationship({ templateId: template.id, creationContent }),
    );

    expect(created.creationContent).toEqual(creationContent);
    const [aView] = await views(created.id, a);
    expect((aView as RelationshipDTO).creationContent).toEqual(creationContent);
  });

  test("loads the template into the requestor's local templates", async () => {
    const a = await w.runtime();
    const b = await w.runtime();
    const template = ok(await a.relationships.createOwnRelationshipTemplate({ content: "c" }));

    ok(await b.relationships.createRelationship({ templateId: template.id }));

    expect(ok(await b.relationships.getRelationshipTemplates())).toEqual([template]);
  });

  describe("relationshipCurrentlyExists (another template of the same creator)", () => {
    test.each<RelationshipStatus>(["Pending", "Active", "Terminated"])(
      "while a %s relationship exists between the two",
      async (status) => {
        const a = await w.runtime();
        const b = await w.runtime();
        const relationshipId = await relate(a, b, status);
        const second = ok(await a.relationships.createOwnRelationshipTemplate());
        const [aEvents, bEvents] = recordAll(a, b);

        const error = err(await b.relationships.createRelationship({ templateId: second.id }));

        expect(error.code).toBe(CODE.relationshipCurrentlyExists);
        expect(error.message).toContain(a.address);
        expect(ok(await b.relationships.getRelationships())).toHaveLength(1);
        expect(ok(await a.relationships.getRelationships())).toHaveLength(1);
        expect(await statuses(relationshipId, a, b)).toEqual([status, status]);
        expect(aEvents).toEqual([]);
        expect(bEvents).toEqual([]);
      },
    );

    test("in the other direction too: the template creator cannot create one from the requestor's template", async () => {
      const a = await w.runtime();
      const b = await w.runtime();
      await relate(a, b, "Active");
      const bTemplate = ok(await b.relationships.createOwnRelationshipTemplate());

      const error = err(await a.relationships.createRelationship({ templateId: bTemplate.id }));

      expect(error.code).toBe(CODE.relationshipCurrentlyExists);
      expect(error.message).toContain(b.address);
      expect(ok(await a.relationships.getRelationships())).toHaveLength(1);
    });

    test("while the relationship is DeletionProposed on the side that has not decomposed", async () => {
      const a = await w.runtime();
      const b = await w.runtime();
      const relationshipId = await relate(a, b, "DeletionProposed");
      expect(await statuses(relationshipId, a, b)).toEqual(["DeletionProposed", CODE.recordNotFound]);
      const bTemplate = ok(await b.relationships.createOwnRelationshipTemplate());

      const error = err(await a.relationships.createRelationship({ templateId: bTemplate.id }));

      expect(error.code).toBe(CODE.relationshipCurrentlyExists);
      expect(error.message).toContain(b.address);
      expect(ok(await a.relationships.getRelationships())).toHaveLength(1);
      expect(ok(await b.relationships.getRelationships())).toEqual([]);
    });

    test("while the relationship is DeletionProposed, also for the side that has decomposed", async () => {
      const a = await w.runtime();
      const b = await w.runtime();
      await relate(a, b, "DeletionProposed");
      const aTemplate = ok(await a.relationships.createOwnRelationshipTemplate());

      const error = err(await b.relationships.createRelationship({ templateId: aTemplate.id }));

      expect(error.code).toBe(CODE.relationshipCurrentlyExists);
      expect(error.message).toContain(a.address);
      expect(ok(await b.relationships.getRelationships())).toEqual([]);
      expect(ok(await a.relationships.getRelationships())).toHaveLength(1);
    });

    test.each<RelationshipStatus>(["Rejected", "Revoked"])(
      "but a new relationship can be created after the previous one was %s",
      async (status) => {
        const a = await w.runtime();
        const b = await w.runtime();
        const oldId = await relate(a, b, status);
        const second = ok(await a.relationships.createOwnRelationshipTemplate());

        const created = ok(await b.relationships.createRelationship({ templateId: second.id }));

        expect(created.status).toBe("Pending");
        expect(created.id).not.toBe(oldId);
        expect(await statuses(created.id, a, b)).toEqual(["Pending", "Pending"]);
        expect(await statuses(oldId, a, b)).toEqual([status, status]);
        expect(ok(await a.relationships.getRelationships({ peer: b.address })).map((r) => r.id)).toEqual([
          oldId,
          created.id,
        ]);
      },
    );
  });

  test("from an own template is error.transport.relationships.cannotCreateRelationshipWithYourself", async () => {
    const a = await w.runtime();
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    const [events] = recordAll(a);

    const error = err(await a.relationships.createRelationship({ templateId: template.id }));

    expect(error.code).toBe(CODE.cannotCreateRelationshipWithYourself);
    expect(error.message).toContain(template.id);
    expect(ok(await a.relationships.getRelationships())).toEqual([]);
    expect(events).toEqual([]);
  });

  describe("expiry", () => {
    test("from a template whose expiresAt has passed is relationshipTemplateExpired", async () => {
      const a = await w.runtime();
      const b = await w.runtime();
      const template = ok(
        await a.relationships.createOwnRelationshipTemplate({ expiresAt: "2030-01-02T00:00:00.000Z" }),
      );
      w.clock.advance({ days: 1 });
      const [aEvents, bEvents] = recordAll(a, b);

      const error = err(await b.relationships.createRelationship({ templateId: template.id }));

      expect(error.code).toBe(CODE.relationshipTemplateExpired);
      expect(error.message).toContain(template.id);
      expect(ok(await a.relationships.getRelationships())).toEqual([]);
      expect(ok(await b.relationships.getRelationships())).toEqual([]);
      expect(aEvents).toEqual([]);
      expect(bEvents).toEqual([]);
    });

    test("one millisecond before expiresAt the template still works", async () => {
      const a = await w.runtime();
      const b = await w.runtime();
      const template = ok(
        await a.relationships.createOwnRelationshipTemplate({ expiresAt: "2030-01-02T00:00:00.000Z" }),
      );
      w.clock.advance({ days: 1, ms: -1 });

      const created = ok(await b.relationships.createRelationship({ templateId: template.id }));

      expect(created.status).toBe("Pending");
    });
  });

  describe("maxNumberOfAllocations", () => {
    test("once used up, the template gives relationshipTemplateAllocationsExhausted", async () => {
      const a = await w.runtime();
      const b = await w.runtime();
      const c = await w.runtime();
      const d = await w.runtime();
      const template = ok(await a.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 2 }));
      ok(await b.relationships.createRelationship({ templateId: template.id }));
      ok(await c.relationships.createRelationship({ templateId: template.id }));
      const [aEvents, dEvents] = recordAll(a, d);

      const error = err(await d.relationships.createRelationship({ templateId: template.id }));

      expect(error.code).toBe(CODE.relationshipTemplateAllocationsExhausted);
      expect(error.message).toContain(template.id);
      expect(ok(await d.relationships.getRelationships())).toEqual([]);
      expect(ok(await a.relationships.getRelationships())).toHaveLength(2);
      expect(aEvents).toEqual([]);
      expect(dEvents).toEqual([]);
    });

    test("a rejected relationship still counts as an allocation", async () => {
      const a = await w.runtime();
      const b = await w.runtime();
      const c = await w.runtime();
      const template = ok(await a.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 1 }));
      const { id } = ok(await b.relationships.createRelationship({ templateId: template.id }));
      ok(await a.relationships.rejectRelationship({ relationshipId: id }));

      expect(err(await c.relationships.createRelationship({ templateId: template.id })).code).toBe(
        CODE.relationshipTemplateAllocationsExhausted,
      );
    });
  });

  test("an unknown templateId is error.runtime.recordNotFound naming the id", async () => {
    const b = await w.runtime();
    const [events] = recordAll(b);

    const error = err(await b.relationships.createRelationship({ templateId: UNKNOWN_TEMPLATE_ID }));

    expect(error.code).toBe(CODE.recordNotFound);
    expect(error.message).toContain(UNKNOWN_TEMPLATE_ID);
    expect(ok(await b.relationships.getRelationships())).toEqual([]);
    expect(events).toEqual([]);
  });

  test.each([
    ["a malformed templateId", { templateId: "RLT123" }, "templateId"],
    ["a relationship id as templateId", { templateId: UNKNOWN_RELATIONSHIP_ID }, "templateId"],
    ["no templateId", {}, "templateId"],
    [
      "creationContent not JSON",
      { templateId: UNKNOWN_TEMPLATE_ID, creationContent: new Date() },
      "creationContent",
    ],
    ["an unknown property", { templateId: UNKNOWN_TEMPLATE_ID, peer: UNKNOWN_ADDRESS }, "peer"],
  ])("%s is a validation error naming the property", async (_name, request, property) => {
    const b = await w.runtime();
    const [events] = recordAll(b);

    const error = err(await b.relationships.createRelationship(request as never));

    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toContain(property);
    expect(ok(await b.relationships.getRelationships())).toEqual([]);
    expect(events).toEqual([]);
  });
});

describe("a long history between two identities", () => {
  test("creating a relationship looks the pair's existing relationship up by its slot: the history is never read", async () => {
    const inner = lokiStorage();
    const listed: string[] = [];
    const storage = delegating(inner, (target) => ({
      listByPeer: (collection, peer) => (listed.push(collection), target.listByPeer(collection, peer)),
    }));
    const history = world({ backbone: { storage } });
    try {
      const a = await history.runtime();
      const b = await history.runtime();
      for (let round = 0; round < 5; round++) {
        const template = ok(await a.relationships.createOwnRelationshipTemplate());
        const pending = ok(await b.relationships.createRelationship({ templateId: template.id }));
        ok(await b.relationships.revokeRelationship({ relationshipId: pending.id }));
      }
      const template = ok(await a.relationships.createOwnRelationshipTemplate());
      listed.length = 0;
      const created = ok(await b.relationships.createRelationship({ templateId: template.id }));
      expect(listed.filter((collection) => collection === "backbone/relationships")).toEqual([]);
      // The slot still answers the rule: a second one for the pair is refused while this one exists.
      const another = ok(await a.relationships.createOwnRelationshipTemplate());
      expect(err(await b.relationships.createRelationship({ templateId: another.id })).code).toBe(
        CODE.relationshipCurrentlyExists,
      );
      ok(await b.relationships.revokeRelationship({ relationshipId: created.id }));
      ok(await b.relationships.createRelationship({ templateId: another.id }));
    } finally {
      await history.close();
    }
  });
});

describe("canCreateRelationship", () => {
  test("returns Ok({isSuccess: true}) and does not act", async () => {
    const a = await w.runtime();
    const b = await w.runtime();
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    const [aEvents, bEvents] = recordAll(a, b);

    expect(ok(await b.relationships.canCreateRelationship({ templateId: template.id }))).toEqual({
      isSuccess: true,
    });

    expect(ok(await a.relationships.getRelationships())).toEqual([]);
    expect(ok(await b.relationships.getRelationships())).toEqual([]);
    expect(aEvents).toEqual([]);
    expect(bEvents).toEqual([]);
  });

  test("does not consume an allocation of the template", async () => {
    const a = await w.runtime();
    const b = await w.runtime();
    const template = ok(await a.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 1 }));

    expect(ok(await b.relationships.canCreateRelationship({ templateId: template.id }))).toEqual({
      isSuccess: true,
    });
    expect(ok(await b.relationships.canCreateRelationship({ templateId: template.id }))).toEqual({
      isSuccess: true,
    });

    ok(await b.relationships.createRelationship({ templateId: template.id }));
  });

  type Scenario = () => Promise<{ requestor: Runtime; templateId: string }>;
  const scenarios: [string, string, Scenario][] = [
    [
      "a relationship currently exists",
      CODE.relationshipCurrentlyExists,
      async () => {
        const a = await w.runtime();
        const b = await w.runtime();
        await relate(a, b, "Active");
        return { requestor: b, templateId: ok(await a.relationships.createOwnRelationshipTemplate()).id };
      },
    ],
    [
      "the template is the requestor's own",
      CODE.cannotCreateRelationshipWithYourself,
      async () => {
        const a = await w.runtime();
        return { requestor: a, templateId: ok(await a.relationships.createOwnRelationshipTemplate()).id };
      },
    ],
    [
      "the template has expired",
      CODE.relationshipTemplateExpired,
      async () => {
        const a = await w.runtime();
        const b = await w.runtime();
        const expiresAt = "2030-01-01T01:00:00.000Z";
        const template = ok(await a.relationships.createOwnRelationshipTemplate({ expiresAt }));
        w.clock.advance({ hours: 2 });
        return { requestor: b, templateId: template.id };
      },
    ],
    [
      "the template's allocations are used up",
      CODE.relationshipTemplateAllocationsExhausted,
      async () => {
        const a = await w.runtime();
        const b = await w.runtime();
        const c = await w.runtime();
        const template = ok(
          await a.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 1 }),
        );
        ok(await b.relationships.createRelationship({ templateId: template.id }));
        return { requestor: c, templateId: template.id };
      },
    ],
    [
      "the template is unknown",
      CODE.recordNotFound,
      async () => ({ requestor: await w.runtime(), templateId: UNKNOWN_TEMPLATE_ID }),
    ],
  ];

  test.each(scenarios)(
    "when %s returns Ok({isSuccess: false}) with the code and message createRelationship gives (%s)",
    async (_name, code, scenario) => {
      const { requestor, templateId } = await scenario();
      const before = ok(await requestor.relationships.getRelationships());
      const [events] = recordAll(requestor);

      const check = ok(await requestor.relationships.canCreateRelationship({ templateId }));
      const error = err(await requestor.relationships.createRelationship({ templateId }));

      expect(error.code).toBe(code);
      expect(check).toEqual({ isSuccess: false, code, message: error.message });
      expect(ok(await requestor.relationships.getRelationships())).toEqual(before);
      expect(events).toEqual([]);
    },
  );

  test("a malformed templateId is a validation error (Err, not a failed check)", async () => {
    const b = await w.runtime();

    const error = err(await b.relationships.canCreateRelationship({ templateId: "nope" }));

    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toContain("templateId");
  });
});

describe("acceptRelationship", () => {
  test("by the template creator makes both sides Active with an AcceptanceOfCreation audit entry", async () => {
    const { a, b, relationshipId } = await w.connected(true);
    w.clock.advance({ hours: 1 });
    const [aEvents, bEvents] = recordAll(a, b);

    const accepted = ok(await a.relationships.acceptRelationship({ relationshipId }));

    expect(accepted.status).toBe("Active");
    expect(accepted.peer).toBe(b.address);
    expect(accepted.auditLog).toEqual([
      { createdAt: START.toISOString(), createdBy: b.address, reason: "Creation", newStatus: "Pending" },
      {
        createdAt: "2030-01-01T01:00:00.000Z",
        createdBy: a.address,
        reason: "AcceptanceOfCreation",
        oldStatus: "Pending",
        newStatus: "Active",
      },
    ]);
    const [aView, bView] = await views(relationshipId, a, b);
    expect(aView).toEqual(accepted);
    expect(bView).toEqual({ ...accepted, peer: a.address });
    expect(aEvents).toEqual([
      { name: "transport.relationshipChanged", eventTargetAddress: a.address, data: aView },
    ]);
    expect(bEvents).toEqual([
      { name: "transport.relationshipChanged", eventTargetAddress: b.address, data: bView },
    ]);
  });

  test("by the requestor is cannotAcceptOrRejectRelationshipCreatedByYourself, and nothing changes", async () => {
    const { a, b, relationshipId } = await w.connected(true);
    const before = await views(relationshipId, a, b);
    const [aEvents, bEvents] = recordAll(a, b);

    const error = err(await b.relationships.acceptRelationship({ relationshipId }));

    expect(error.code).toBe(CODE.cannotAcceptOrRejectRelationshipCreatedByYourself);
    expect(error.message).toContain(relationshipId);
    expect(await views(relationshipId, a, b)).toEqual(before);
    expect(aEvents).toEqual([]);
    expect(bEvents).toEqual([]);
  });
});

describe("rejectRelationship", () => {
  test("by the template creator makes both sides Rejected with a RejectionOfCreation audit entry", async () => {
    const { a, b, relationshipId } = await w.connected(true);
    const [aEvents, bEvents] = recordAll(a, b);

    const rejected = ok(await a.relationships.rejectRelationship({ relationshipId }));

    expect(rejected.status).toBe("Rejected");
    expect(rejected.auditLog[1]).toEqual({
      createdAt: START.toISOString(),
      createdBy: a.address,
      reason: "RejectionOfCreation",
      oldStatus: "Pending",
      newStatus: "Rejected",
    });
    expect(await statuses(relationshipId, a, b)).toEqual(["Rejected", "Rejected"]);
    expect(aEvents.map((e) => e.data)).toEqual([rejected]);
    expect(bEvents.map((e) => e.data)).toEqual([{ ...rejected, peer: a.address }]);
  });

  test("by the requestor is cannotAcceptOrRejectRelationshipCreatedByYourself, and nothing changes", async () => {
    const { a, b, relationshipId } = await w.connected(true);
    const before = await views(relationshipId, a, b);
    const [aEvents, bEvents] = recordAll(a, b);

    const error = err(await b.relationships.rejectRelationship({ relationshipId }));

    expect(error.code).toBe(CODE.cannotAcceptOrRejectRelationshipCreatedByYourself);
    expect(error.message).toContain(relationshipId);
    expect(await views(relationshipId, a, b)).toEqual(before);
    expect(aEvents).toEqual([]);
    expect(bEvents).toEqual([]);
  });
});

describe("revokeRelationship", () => {
  test("by the requestor makes both sides Revoked with a RevocationOfCreation audit entry", async () => {
    const { a, b, relationshipId } = await w.connected(true);
    const [aEvents, bEvents] = recordAll(a, b);

    const revoked = ok(await b.relationships.revokeRelationship({ relationshipId }));

    expect(revoked.status).toBe("Revoked");
    expect(revoked.auditLog[1]).toEqual({
      createdAt: START.toISOString(),
      createdBy: b.address,
      reason: "RevocationOfCreation",
      oldStatus: "Pending",
      newStatus: "Revoked",
    });
    expect(await statuses(relationshipId, a, b)).toEqual(["Revoked", "Revoked"]);
    expect(aEvents.map((e) => e.data)).toEqual([{ ...revoked, peer: b.address }]);
    expect(bEvents.map((e) => e.data)).toEqual([revoked]);
  });

  test("by the template creator is cannotRevokeRelationshipCreatedByOthers, and nothing changes", async () => {
    const { a, b, relationshipId } = await w.connected(true);
    const before = await views(relationshipId, a, b);
    const [aEvents, bEvents] = recordAll(a, b);

    const error = err(await a.relationships.revokeRelationship({ relationshipId }));

    expect(error.code).toBe(CODE.cannotRevokeRelationshipCreatedByOthers);
    expect(error.message).toContain(relationshipId);
    expect(await views(relationshipId, a, b)).toEqual(before);
    expect(aEvents).toEqual([]);
    expect(bEvents).toEqual([]);
  });
});

describe("terminateRelationship", () => {
  test.each([
    ["the template creator", "a"],
    ["the requestor", "b"],
  ] as const)("by %s makes both sides Terminated with a Termination audit entry", async (_name, who) => {
    const { a, b, relationshipId } = await w.connected();
    const actor = who === "a" ? a : b;
    const [aEvents, bEvents] = recordAll(a, b);

    const terminated = ok(await actor.relationships.terminateRelationship({ relationshipId }));

    expect(terminated.status).toBe("Terminated");
    expect(terminated.auditLog.map((entry) => entry.reason)).toEqual([
      "Creation",
      "AcceptanceOfCreation",
      "Termination",
    ]);
    expect(terminated.auditLog[2]).toEqual({
      createdAt: START.toISOString(),
      createdBy: actor.address,
      reason: "Termination",
      oldStatus: "Active",
      newStatus: "Terminated",
    });
    expect(await statuses(relationshipId, a, b)).toEqual(["Terminated", "Terminated"]);
    expect(eventStatuses(aEvents)).toEqual(["Terminated"]);
    expect(eventStatuses(bEvents)).toEqual(["Terminated"]);
  });
});

describe("wrong relationship status is error.transport.relationships.wrongRelationshipStatus", () => {
  type Action = "accept" | "reject" | "revoke" | "terminate" | "decompose";
  const act = (runtime: Runtime, action: Action, relationshipId: string): Promise<RuntimeResult<unknown>> => {
    switch (action) {
      case "accept":
        return runtime.relationships.acceptRelationship({ relationshipId });
      case "reject":
        return runtime.relationships.rejectRelationship({ relationshipId });
      case "revoke":
        return runtime.relationships.revokeRelationship({ relationshipId });
      case "terminate":
        return runtime.relationships.terminateRelationship({ relationshipId });
      case "decompose":
        return runtime.relationships.decomposeRelationship({ relationshipId });
    }
  };

  // [action, status, who acts: "creator" (template creator) or "requestor"]
  const cases: [Action, RelationshipStatus, "creator" | "requestor"][] = [
    ["accept", "Active", "creator"],
    ["accept", "Rejected", "creator"],
    ["reject", "Active", "creator"],
    ["reject", "Revoked", "creator"],
    ["revoke", "Active", "requestor"],
    ["revoke", "Rejected", "requestor"],
    ["terminate", "Pending", "creator"],
    ["terminate", "Pending", "requestor"],
    ["terminate", "Terminated", "creator"],
    ["terminate", "Rejected", "requestor"],
    ["decompose", "Active", "creator"],
    ["decompose", "Active", "requestor"],
    ["decompose", "Pending", "creator"],
    ["decompose", "Pending", "requestor"],
    ["decompose", "Rejected", "creator"],
    ["decompose", "Revoked", "requestor"],
  ];

  test.each(cases)("%s on a %s relationship (by the %s)", async (action, status, who) => {
    const a = await w.runtime();
    const b = await w.runtime();
    const relationshipId = await relate(a, b, status);
    const before = await views(relationshipId, a, b);
    const [aEvents, bEvents] = recordAll(a, b);

    const error = err(await act(who === "creator" ? a : b, action, relationshipId));

    expect(error.code).toBe(CODE.relationshipsWrongRelationshipStatus);
    expect(error.message).toContain(relationshipId);
    expect(error.message).toContain(status);
    expect(await views(relationshipId, a, b)).toEqual(before);
    expect(aEvents).toEqual([]);
    expect(bEvents).toEqual([]);
  });
});

describe("unknown and malformed relationship ids", () => {
  const methods = [
    "acceptRelationship",
    "rejectRelationship",
    "revokeRelationship",
    "terminateRelationship",
    "decomposeRelationship",
  ] as const;
  const call = (runtime: Runtime, method: (typeof methods)[number], request: unknown) =>
    runtime.relationships[method](request as never) as Promise<RuntimeResult<unknown>>;

  test.each(methods)(
    "%s with an unknown id is error.runtime.recordNotFound naming the id",
    async (method) => {
      const a = await w.runtime();
      const [events] = recordAll(a);

      const error = err(await call(a, method, { relationshipId: UNKNOWN_RELATIONSHIP_ID }));

      expect(error.code).toBe(CODE.recordNotFound);
      expect(error.message).toContain(UNKNOWN_RELATIONSHIP_ID);
      expect(events).toEqual([]);
    },
  );

  test.each(methods)(
    "%s on a relationship between two others is error.runtime.recordNotFound",
    async (method) => {
      const a = await w.runtime();
      const b = await w.runtime();
      const c = await w.runtime();
      // Terminated, so that at least decompose would be allowed in this status.
      const relationshipId = await relate(a, b, "Terminated");
      const before = await views(relationshipId, a, b);
      const [aEvents, bEvents, cEvents] = recordAll(a, b, c);

      const error = err(await call(c, method, { relationshipId }));

      expect(error.code).toBe(CODE.recordNotFound);
      expect(error.message).toContain(relationshipId);
      expect(await views(relationshipId, a, b)).toEqual(before);
      expect([...aEvents, ...bEvents, ...cEvents]).toEqual([]);
    },
  );

  test.each(methods)("%s with a malformed id is a validation error naming relationshipId", async (method) => {
    const a = await w.runtime();

    for (const relationshipId of ["REL123", "RLTAAAAAAAAAAAAAAAAA", " RELAAAAAAAAAAAAAAAAA", 7]) {
      const error = err(await call(a, method, { relationshipId }));
      expect(error.code).toBe(CODE.invalidPropertyValue);
      expect(error.message).toContain("relationshipId");
    }
    const missing = err(await call(a, method, {}));
    expect(missing.code).toBe(CODE.invalidPropertyValue);
    expect(missing.message).toContain("relationshipId");
  });

  test("getRelationship with an unknown id is recordNotFound, with a malformed id a validation error", async () => {
    const a = await w.runtime();

    const notFound = err(await a.relationships.getRelationship({ id: UNKNOWN_RELATIONSHIP_ID }));
    expect(notFound.code).toBe(CODE.recordNotFound);
    expect(notFound.message).toContain(UNKNOWN_RELATIONSHIP_ID);

    const malformed = err(await a.relationships.getRelationship({ id: "REL-1" }));
    expect(malformed.code).toBe(CODE.invalidPropertyValue);
    expect(malformed.message).toContain("id");
  });
});

describe("decomposeRelationship", () => {
  test("removes the own template the relationship came from when it was single-use, and keeps reusable ones", async () => {
    const a = await w.runtime();
    const b = await w.runtime();
    const singleUse = ok(await a.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 1 }));
    const reusable = ok(await a.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 2 }));
    const fromSingleUse = ok(await b.relationships.createRelationship({ templateId: singleUse.id }));
    ok(await a.relationships.acceptRelationship({ relationshipId: fromSingleUse.id }));
    ok(await a.relationships.terminateRelationship({ relationshipId: fromSingleUse.id }));

    ok(await a.relationships.decomposeRelationship({ relationshipId: fromSingleUse.id }));

    expect(ok(await a.relationships.getRelationshipTemplates()).map((t) => t.id)).toEqual([reusable.id]);
    // Reading it by id does not bring it back from the Backbone.
    expect(err(await a.relationships.getRelationshipTemplate({ id: singleUse.id })).code).toBe(
      CODE.recordNotFound,
    );
    expect(ok(await a.relationships.getRelationshipTemplates()).map((t) => t.id)).toEqual([reusable.id]);
    // The peer forgets the decomposing side's templates only when it decomposes itself.
    expect(ok(await b.relationships.getRelationshipTemplates()).map((t) => t.id)).toEqual([singleUse.id]);
    ok(await b.relationships.decomposeRelationship({ relationshipId: fromSingleUse.id }));
    const fromReusable = ok(await b.relationships.createRelationship({ templateId: reusable.id }));
    ok(await a.relationships.acceptRelationship({ relationshipId: fromReusable.id }));
    ok(await a.relationships.terminateRelationship({ relationshipId: fromReusable.id }));
    ok(await a.relationships.decomposeRelationship({ relationshipId: fromReusable.id }));
    expect(ok(await a.relationships.getRelationshipTemplates()).map((t) => t.id)).toEqual([reusable.id]);
  });

  test("by one side removes it there, publishes relationshipDecomposedBySelf, and makes the peer's side DeletionProposed", async () => {
    const { a, b, relationshipId } = await w.connected();
    ok(await a.relationships.terminateRelationship({ relationshipId }));
    w.clock.advance({ minutes: 5 });
    const [aEvents, bEvents] = recordAll(a, b);

    const decomposed = await b.relationships.decomposeRelationship({ relationshipId });

    expect(decomposed.ok).toBe(true);
    expect(decomposed.val).toBeUndefined();
    const bGet = err(await b.relationships.getRelationship({ id: relationshipId }));
    expect(bGet.code).toBe(CODE.recordNotFound);
    expect(bGet.message).toContain(relationshipId);
    expect(ok(await b.relationships.getRelationships())).toEqual([]);
    expect(bEvents).toEqual([
      {
        name: "transport.relationshipDecomposedBySelf",
        eventTargetAddress: b.address,
        data: { relationshipId },
      },
    ]);

    const aView = ok(await a.relationships.getRelationship({ id: relationshipId }));
    expect(aView.status).toBe("DeletionProposed");
    expect(aView.auditLog.at(-1)).toEqual({
      createdAt: "2030-01-01T00:05:00.000Z",
      createdBy: b.address,
      reason: "Decomposition",
      oldStatus: "Terminated",
      newStatus: "DeletionProposed",
    });
    expect(aEvents).toEqual([
      { name: "transport.relationshipChanged", eventTargetAddress: a.address, data: aView },
    ]);
  });

  test("decomposing again on the side that already decomposed is error.runtime.recordNotFound", async () => {
    const { a, b, relationshipId } = await w.connected();
    ok(await a.relationships.terminateRelationship({ relationshipId }));
    ok(await b.relationships.decomposeRelationship({ relationshipId }));
    const before = await views(relationshipId, a);
    const [aEvents, bEvents] = recordAll(a, b);

    const error = err(await b.relationships.decomposeRelationship({ relationshipId }));

    expect(error.code).toBe(CODE.recordNotFound);
    expect(error.message).toContain(relationshipId);
    expect(await views(relationshipId, a)).toEqual(before);
    expect(aEvents).toEqual([]);
    expect(bEvents).toEqual([]);
  });

  test("then the peer decomposes too: gone on both sides, and a new relationship between them can be created", async () => {
    const { a, b, relationshipId, templateId } = await w.connected();
    ok(await b.relationships.terminateRelationship({ relationshipId }));
    ok(await b.relationships.decomposeRelationship({ relationshipId }));
    const [aEvents, bEvents] = recordAll(a, b);

    ok(await a.relationships.decomposeRelationship({ relationshipId }));

    expect(await statuses(relationshipId, a, b)).toEqual([CODE.recordNotFound, CODE.recordNotFound]);
    expect(ok(await a.relationships.getRelationships())).toEqual([]);
    expect(ok(await b.relationships.getRelationships())).toEqual([]);
    expect(aEvents).toEqual([
      {
        name: "transport.relationshipDecomposedBySelf",
        eventTargetAddress: a.address,
        data: { relationshipId },
      },
    ]);
    expect(bEvents).toEqual([]);

    const again = ok(await b.relationships.createRelationship({ templateId }));
    expect(again.id).not.toBe(relationshipId);
    expect(await statuses(again.id, a, b)).toEqual(["Pending", "Pending"]);
  });

  test("after both sides decomposed, the former template creator can create one from the other's template", async () => {
    const { a, b, relationshipId } = await w.connected();
    ok(await a.relationships.terminateRelationship({ relationshipId }));
    ok(await a.relationships.decomposeRelationship({ relationshipId }));
    ok(await b.relationships.decomposeRelationship({ relationshipId }));
    const bTemplate = ok(await b.relationships.createOwnRelationshipTemplate());

    const created = ok(await a.relationships.createRelationship({ templateId: bTemplate.id }));

    expect(await statuses(created.id, a, b)).toEqual(["Pending", "Pending"]);
  });

  test("removes the peer's templates from the decomposer's local templates, keeping own and other peers' ones", async () => {
    const { a, b, relationshipId, templateId } = await w.connected();
    const c = await w.runtime();
    const aSecond = ok(await a.relationships.createOwnRelationshipTemplate({ content: "second" }));
    const bOwn = ok(await b.relationships.createOwnRelationshipTemplate({ content: "b's own" }));
    const cTemplate = ok(await c.relationships.createOwnRelationshipTemplate({ content: "c's" }));
    ok(await b.relationships.getRelationshipTemplate({ id: aSecond.id }));
    ok(await b.relationships.getRelationshipTemplate({ id: cTemplate.id }));
    expect(
      ok(await b.relationships.getRelationshipTemplates())
        .map((t) => t.id)
        .sort(),
    ).toEqual([templateId, aSecond.id, bOwn.id, cTemplate.id].sort());
    ok(await a.relationships.terminateRelationship({ relationshipId }));

    ok(await b.relationships.decomposeRelationship({ relationshipId }));

    expect(
      ok(await b.relationships.getRelationshipTemplates())
        .map((t) => t.id)
        .sort(),
    ).toEqual([bOwn.id, cTemplate.id].sort());
    // The peer's own templates are untouched on its side.
    expect(ok(await a.relationships.getRelationshipTemplates()).map((t) => t.id)).toEqual([
      templateId,
      aSecond.id,
    ]);
  });

  test("the template creator decomposing removes the requestor's templates it had loaded, keeping its own", async () => {
    const { a, b, relationshipId, templateId } = await w.connected();
    const bTemplate = ok(await b.relationships.createOwnRelationshipTemplate());
    ok(await a.relationships.getRelationshipTemplate({ id: bTemplate.id }));
    ok(await a.relationships.terminateRelationship({ relationshipId }));

    ok(await a.relationships.decomposeRelationship({ relationshipId }));

    expect(ok(await a.relationships.getRelationshipTemplates()).map((t) => t.id)).toEqual([templateId]);
  });

  test("leaves the decomposer's other relationships alone", async () => {
    const { a, b, relationshipId } = await w.connected();
    const c = await w.runtime();
    const other = await relate(c, b, "Active");
    ok(await a.relationships.terminateRelationship({ relationshipId }));

    ok(await b.relationships.decomposeRelationship({ relationshipId }));

    expect(ok(await b.relationships.getRelationships()).map((r) => r.id)).toEqual([other]);
    expect(await statuses(other, b, c)).toEqual(["Active", "Active"]);
  });
});

describe("getRelationships", () => {
  test("lists all relationships oldest first, and filters by peer and by status", async () => {
    const a = await w.runtime();
    const b = await w.runtime();
    const c = await w.runtime();
    const d = await w.runtime();
    const withB = await relate(a, b, "Active");
    const withC = await relate(a, c, "Pending");
    const withDOld = await relate(a, d, "Rejected");
    const withD = await relate(a, d, "Active");

    const ids = async (query?: Parameters<typeof a.relationships.getRelationships>[0]) =>
      ok(await a.relationships.getRelationships(query)).map((r) => r.id);

    expect(await ids()).toEqual([withB, withC, withDOld, withD]);
    expect(await ids({})).toEqual([withB, withC, withDOld, withD]);
    expect(await ids({ peer: d.address })).toEqual([withDOld, withD]);
    expect(await ids({ peer: c.address })).toEqual([withC]);
    expect(await ids({ peer: UNKNOWN_ADDRESS })).toEqual([]);
    expect(await ids({ status: "Active" })).toEqual([withB, withD]);
    expect(await ids({ status: "Terminated" })).toEqual([]);
    expect(await ids({ peer: d.address, status: "Rejected" })).toEqual([withDOld]);
    expect(await ids({ peer: c.address, status: "Active" })).toEqual([]);
    for (const relationship of ok(await a.relationships.getRelationships({ peer: d.address }))) {
      expect(relationship.peer).toBe(d.address);
    }
  });

  test("returns [] for a runtime without relationships", async () => {
    const a = await w.runtime();

    expect(ok(await a.relationships.getRelationships())).toEqual([]);
  });

  test.each([
    ["an unknown status", { status: "Accepted" }, "status"],
    ["a lower-case status", { status: "active" }, "status"],
    ["a malformed peer", { peer: "bob" }, "peer"],
    ["a peer with upper-case hex", { peer: "did:e:localhost:dids:0123456789ABCDEF012345" }, "peer"],
    ["an unknown property", { templateId: UNKNOWN_TEMPLATE_ID }, "templateId"],
  ])("%s is a validation error naming the property", async (_name, query, property) => {
    const a = await w.runtime();

    const error = err(await a.relationships.getRelationships(query as never));

    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toContain(property);
  });
});

describe("DTO shapes", () => {
  test("audit log dates are ISO strings with milliseconds", async () => {
    const { a, relationshipId } = await w.connected();

    const relationship = ok(await a.relationships.getRelationship({ id: relationshipId }));

    for (const entry of relationship.auditLog) expect(entry.createdAt).toMatch(ISO);
  });
});
