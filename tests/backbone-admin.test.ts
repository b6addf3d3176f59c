import { LocalBackbone, ManualClock } from "../src/index";
import type { AdminIdentity, AdminIdentityQuery, LocalBackbone as Backbone } from "../src/index";
import { CODE, err, ok, recordEvents, START, testStorage, UNKNOWN_ADDRESS, worldPerTest } from "./support";

const DAY = 86_400_000;
/** The ISO string of START + `ms`. */
const at = (ms: number): string => new Date(START.getTime() + ms).toISOString();

const w = worldPerTest();

/** `count` identities made directly on the Backbone, one millisecond apart; their addresses in that order. */
async function identities(count: number): Promise<string[]> {
  const made: string[] = [];
  for (let index = 0; index < count; index++) {
    made.push(await w.backbone.createIdentity());
    w.clock.advance({ ms: 1 });
  }
  return made;
}

const addressesOf = (items: readonly AdminIdentity[]): string[] => items.map((item) => item.address);

async function list(query?: AdminIdentityQuery) {
  return ok(await w.backbone.admin.listIdentities(query));
}

describe("listIdentities", () => {
  test("every identity, oldest first, Active, with its createdAt; 20 per page from 0 by default", async () => {
    const made = await identities(3);
    expect(await list()).toStrictEqual({
      items: made.map((address, index) => ({ address, createdAt: at(index), status: "Active" })),
      total: 3,
      limit: 20,
      offset: 0,
    });
  });

  test("no identity at all: an empty page", async () => {
    expect(await list()).toStrictEqual({ items: [], total: 0, limit: 20, offset: 0 });
  });

  test("sorted by createdAt, not by the order of writing; one millisecond keeps the order of writing", async () => {
    w.clock.advance({ days: 1 });
    const later = await w.backbone.createIdentity();
    w.clock.set(START);
    const first = await w.backbone.createIdentity();
    const second = await w.backbone.createIdentity();
    const third = await w.backbone.createIdentity();
    expect(addressesOf((await list()).items)).toStrictEqual([first, second, third, later]);
  });

  test("pages: limit and offset cut the sorted list; total counts every match; past the end is empty", async () => {
    const made = await identities(25);
    const pages = [await list({ limit: 10 }), await list({ limit: 10, offset: 10 })];
    pages.push(await list({ limit: 10, offset: 20 }));
    expect(pages.map((page) => [page.items.length, page.total, page.limit, page.offset])).toStrictEqual([
      [10, 25, 10, 0],
      [10, 25, 10, 10],
      [5, 25, 10, 20],
    ]);
    expect(pages.flatMap((page) => addressesOf(page.items))).toStrictEqual(made);
    expect(addressesOf((await list()).items)).toStrictEqual(made.slice(0, 20));
    expect(addressesOf((await list({ limit: 100 })).items)).toStrictEqual(made);
    expect(await list({ offset: 25 })).toStrictEqual({ items: [], total: 25, limit: 20, offset: 25 });
  });

  test("search: part of the address, ignoring case; paging applies to the matches", async () => {
    const made = await identities(4);
    const target = made[2] as string;
    const part = target.slice(-9);
    expect(addressesOf((await list({ search: part })).items)).toStrictEqual([target]);
    expect(addressesOf((await list({ search: part.toUpperCase() })).items)).toStrictEqual([target]);
    expect(addressesOf((await list({ search: target })).items)).toStrictEqual([target]);
    expect((await list({ search: "DID:E:LOCALHOST" })).total).toBe(4);
    expect(await list({ search: "did:e:elsewhere" })).toStrictEqual({
      items: [],
      total: 0,
      limit: 20,
      offset: 0,
    });
    expect(await list({ search: "dids", limit: 2, offset: 1 })).toMatchObject({
      items: [{ address: made[1] }, { address: made[2] }],
      total: 4,
    });
    expect((await list({ search: "" })).total).toBe(4);
  });

  test.each<[string, unknown]>([
    ["limit", { limit: 0 }],
    ["limit", { limit: 101 }],
    ["limit", { limit: 1.5 }],
    ["limit", { limit: "10" }],
    ["limit", { limit: Number.NaN }],
    ["offset", { offset: -1 }],
    ["offset", { offset: 0.5 }],
    ["search", { search: 5 }],
    ["sort", { sort: "address" }],
    ["request", "everything"],
  ])("invalid %s → invalidPropertyValue naming it: %p", async (named, query) => {
    const error = err(await w.backbone.admin.listIdentities(query as AdminIdentityQuery));
    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toContain(named);
  });
});

describe("derived status and processes", () => {
  test("WaitingForApproval keeps the identity Active; approval makes it ToBeDeleted; the grace period's end Deleted", async () => {
    const rt = await w.runtime();
    const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    const waiting = { ...started, identityDeleted: false };
    expect(ok(await w.backbone.admin.getIdentity(rt.address))).toStrictEqual({
      address: rt.address,
      createdAt: at(0),
      status: "Active",
      activeDeletionProcess: waiting,
      deletionProcesses: [waiting],
    });

    w.clock.advance({ days: 1 });
    const approved = {
      ...ok(await rt.identityDeletion.approveIdentityDeletionProcess()),
      identityDeleted: false,
    };
    expect(approved).toMatchObject({ approvedAt: at(DAY), gracePeriodEndsAt: at(15 * DAY) });
    expect(ok(await w.backbone.admin.getIdentity(rt.address))).toMatchObject({
      status: "ToBeDeleted",
      activeDeletionProcess: approved,
      deletionProcesses: [approved],
    });

    // At the grace period's very end the identity can still cancel: not deleted yet.
    w.clock.set(new Date(START.getTime() + 15 * DAY));
    expect(ok(await w.backbone.admin.getIdentity(rt.address)).status).toBe("ToBeDeleted");
    w.clock.advance({ ms: 1 });
    const deleted = { ...approved, identityDeleted: true };
    const expected = {
      address: rt.address,
      createdAt: at(0),
      status: "Deleted",
      activeDeletionProcess: deleted,
      deletionProcesses: [deleted],
    };
    // Shown as deleted before the due jobs ran, and the same after.
    expect(ok(await w.backbone.admin.getIdentity(rt.address))).toStrictEqual(expected);
    await w.backbone.runDueJobs();
    expect(ok(await w.backbone.admin.getIdentity(rt.address))).toStrictEqual(expected);
    const { deletionProcesses: _history, ...listed } = expected;
    expect((await list()).items).toStrictEqual([listed]);
  });

  test("every process with every date, oldest first; ended ones leave the identity Active", async () => {
    const rt = await w.runtime();
    const rejected = await (async () => {
      ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
      w.clock.advance({ hours: 1 });
      return ok(await rt.identityDeletion.rejectIdentityDeletionProcess());
    })();
    const cancelled = await (async () => {
      ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
      w.clock.advance({ days: 2 });
      return ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
    })();
    const expired = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    w.clock.advance({ days: 8 });

    const identity = ok(await w.backbone.admin.getIdentity(rt.address));
    expect(identity.status).toBe("Active");
    expect(identity).not.toHaveProperty("activeDeletionProcess");
    const expiredAsOfNow = {
      ...expired,
      status: "Cancelled",
      cancelledAt: expired.approvalPeriodEndsAt,
      identityDeleted: false,
    };
    expect(identity.deletionProcesses).toStrictEqual([
      { ...rejected, identityDeleted: false },
      { ...cancelled, identityDeleted: false },
      expiredAsOfNow,
    ]);
    expect(rejected).toMatchObject({ rejectedAt: at(3_600_000), approvalPeriodEndsAt: at(7 * DAY) });
    expect(cancelled).toMatchObject({ approvedAt: at(3_600_000), cancelledAt: at(2 * DAY + 3_600_000) });
    // What the admin sees is what the identity's runtime sees once the Backbone applied the expiry.
    await w.backbone.runDueJobs();
    const seen = ok(await rt.identityDeletion.getIdentityDeletionProcesses());
    expect(identity.deletionProcesses).toStrictEqual(
      seen.map((process) => ({ ...process, identityDeleted: false })),
    );
  });

  test("reads write nothing: an expiry they show is applied (and told) by the Backbone's jobs only", async () => {
    const rt = await w.runtime();
    ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    w.clock.advance({ days: 8 });
    const events = recordEvents(rt, "transport.identityDeletionProcessStatusChanged");
    expect(ok(await w.backbone.admin.getIdentity(rt.address)).deletionProcesses[0]?.status).toBe("Cancelled");
    expect((await list()).items[0]).toStrictEqual({
      address: rt.address,
      createdAt: at(0),
      status: "Active",
    });
    expect(events).toHaveLength(0);
    await w.backbone.runDueJobs();
    expect(events.map((event) => event.data.status)).toStrictEqual(["Cancelled"]);
  });

  test("getIdentity: recordNotFound for an address the Backbone never made, invalidPropertyValue for no address", async () => {
    const unknown = err(await w.backbone.admin.getIdentity(UNKNOWN_ADDRESS));
    expect(unknown.code).toBe(CODE.recordNotFound);
    expect(unknown.message).toContain(UNKNOWN_ADDRESS);
    for (const malformed of ["", "did:e:localhost:dids:XYZ", 42 as unknown as string]) {
      expect(err(await w.backbone.admin.getIdentity(malformed)).code).toBe(CODE.invalidPropertyValue);
    }
  });

  test("after close: runtimeClosed", async () => {
    const address = await w.backbone.createIdentity();
    await w.backbone.close();
    expect(err(await w.backbone.admin.listIdentities()).code).toBe(CODE.runtimeClosed);
    expect(err(await w.backbone.admin.getIdentity(address)).code).toBe(CODE.runtimeClosed);
  });
});

test("reads go to the storage: a second Backbone on it sees what the first one did at once", async () => {
  const { storage, dispose } = testStorage();
  const clock = new ManualClock(START);
  const backbones: Backbone[] = [
    new LocalBackbone({ storage, clock }),
    new LocalBackbone({ storage, clock }),
  ];
  const [one, other] = backbones as [Backbone, Backbone];
  try {
    expect(ok(await other.admin.listIdentities()).total).toBe(0);
    const address = await one.createIdentity();
    expect(addressesOf(ok(await other.admin.listIdentities()).items)).toStrictEqual([address]);
    const started = ok(await one.admin.startIdentityDeletionProcess(address));
    expect(ok(await other.admin.getIdentity(address)).activeDeletionProcess).toStrictEqual({
      ...started,
      identityDeleted: false,
    });
  } finally {
    await Promise.all(backbones.map((backbone) => backbone.close()));
    await dispose();
  }
});
