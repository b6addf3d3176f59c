import { createRuntime, LocalBackbone, lokiStorage, ManualClock } from "../src/index";
import type {
  IdentityDeletionProcessDTO,
  Runtime,
  RuntimeError,
  RuntimeEvent,
  RuntimeResult,
  StorageAdapter,
} from "../src/index";
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

const CHANGED = "transport.identityDeletionProcessStatusChanged";

const IDP_ID = /^IDP[A-Za-z0-9]{17}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY = 86_400_000;
const DATE_FIELDS = [
  "createdAt",
  "approvalPeriodEndsAt",
  "approvedAt",
  "rejectedAt",
  "gracePeriodEndsAt",
  "cancelledAt",
] as const;

/** The ISO string of START + `ms`. */
const at = (ms: number): string => new Date(START.getTime() + ms).toISOString();

/** Every date of the DTO is an ISO string with milliseconds, and its id has the IDP form. */
function expectWellFormed(process: IdentityDeletionProcessDTO): void {
  expect(process.id).toMatch(IDP_ID);
  for (const field of DATE_FIELDS) {
    const value = process[field];
    if (value !== undefined) expect(value).toMatch(ISO_MS);
  }
}

/** The error of a failed call, after checking its code and that its message names `named`. */
function failure<T>(result: RuntimeResult<T>, code: string, named: string): RuntimeError {
  const error = err(result);
  expect(error.code).toBe(code);
  expect(error.message).toContain(named);
  return error;
}

/**
 * Runs a call that must fail and checks it changed nothing: the runtime's processes, the Backbone's processes,
 * and not one status event.
 */
async function changesNothing<T>(
  w: ReturnType<typeof world>,
  rt: Runtime,
  call: () => Promise<RuntimeResult<T>>,
): Promise<RuntimeResult<T>> {
  const local = ok(await rt.identityDeletion.getIdentityDeletionProcesses());
  const remote = ok(await w.backbone.getIdentityDeletionProcesses(rt.address));
  const active = await rt.identityDeletion.getActiveIdentityDeletionProcess();
  const events = recordEvents(rt, CHANGED);
  const result = await call();
  expect(result.err).toBe(true);
  expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual(local);
  expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual(remote);
  expect(await rt.identityDeletion.getActiveIdentityDeletionProcess()).toStrictEqual(active);
  expect(events).toHaveLength(0);
  return result;
}

/** Resolves with the first event of `name` matching `predicate`; rejects after `timeoutMs` of real time. */
function nextStatusEvent(
  rt: Runtime,
  predicate: (process: IdentityDeletionProcessDTO) => boolean,
  timeoutMs = 2_000,
): Promise<RuntimeEvent<typeof CHANGED>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching ${CHANGED} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = rt.events.on(CHANGED, (event) => {
      if (!predicate(event.data)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

/** Polls `condition` every 5 ms of real time, up to `timeoutMs`. */
async function eventually(condition: () => Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const realTime = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const w = worldPerTest();

/** A world with other periods, closed after `body`. */
async function withWorld(
  options: { gracePeriodInDays?: number; approvalPeriodInDays?: number },
  body: (v: ReturnType<typeof world>) => Promise<void>,
): Promise<void> {
  const v = world({ backbone: options });
  try {
    await body(v);
  } finally {
    await v.close();
  }
}

describe("transition table (behaviour §4)", () => {
  test("initiate: Approved at once, createdAt = approvedAt = now, gracePeriodEndsAt = now + 14 days, nothing else", async () => {
    const rt = await w.runtime();
    w.clock.advance({ hours: 5, ms: 7 });
    const now = 5 * 3_600_000 + 7;
    const process = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    expectWellFormed(process);
    expect(process).toStrictEqual({
      id: process.id,
      status: "Approved",
      createdAt: at(now),
      approvedAt: at(now),
      gracePeriodEndsAt: at(now + 14 * DAY),
    });
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcess({ id: process.id }))).toStrictEqual(
      process,
    );
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(process);
  });

  test.each<[string, object | undefined]>([
    ["no request", undefined],
    ["an empty request", {}],
    ["lengthOfGracePeriodInDays: undefined", { lengthOfGracePeriodInDays: undefined }],
  ])("initiate with %s uses the default grace period of 14 days", async (_label, request) => {
    const rt = await w.runtime();
    const process = ok(await rt.identityDeletion.initiateIdentityDeletionProcess(request));
    expect(process.gracePeriodEndsAt).toBe(at(14 * DAY));
  });

  test.each([
    [0, 0],
    [0.5, DAY / 2],
    [1, DAY],
    [30, 30 * DAY],
  ])(
    "initiate with lengthOfGracePeriodInDays %p ends the grace period that long after now",
    async (days, ms) => {
      const rt = await w.runtime();
      const process = ok(
        await rt.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: days }),
      );
      expect(process).toStrictEqual({
        id: process.id,
        status: "Approved",
        createdAt: at(0),
        approvedAt: at(0),
        gracePeriodEndsAt: at(ms),
      });
    },
  );

  test("admin start: WaitingForApproval with createdAt = now and approvalPeriodEndsAt = now + 7 days, nothing else", async () => {
    const rt = await w.runtime();
    w.clock.advance({ minutes: 3 });
    const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    expectWellFormed(started);
    expect(started).toStrictEqual({
      id: started.id,
      status: "WaitingForApproval",
      createdAt: at(180_000),
      approvalPeriodEndsAt: at(180_000 + 7 * DAY),
    });
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(started);
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([started]);
  });

  test("approve: Approved, same id, approvedAt = now, gracePeriodEndsAt = now + 14 days, start fields kept", async () => {
    const rt = await w.runtime();
    const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    w.clock.advance({ days: 2, ms: 1 });
    const approved = ok(await rt.identityDeletion.approveIdentityDeletionProcess());
    expectWellFormed(approved);
    expect(approved).toStrictEqual({
      id: started.id,
      status: "Approved",
      createdAt: at(0),
      approvalPeriodEndsAt: at(7 * DAY),
      approvedAt: at(2 * DAY + 1),
      gracePeriodEndsAt: at(16 * DAY + 1),
    });
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcess({ id: started.id }))).toStrictEqual(
      approved,
    );
    expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual([approved]);
  });

  test("reject: Rejected with rejectedAt = now, no grace period, no longer active", async () => {
    const rt = await w.runtime();
    const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    w.clock.advance({ hours: 1 });
    const rejected = ok(await rt.identityDeletion.rejectIdentityDeletionProcess());
    expectWellFormed(rejected);
    expect(rejected).toStrictEqual({
      id: started.id,
      status: "Rejected",
      createdAt: at(0),
      approvalPeriodEndsAt: at(7 * DAY),
      rejectedAt: at(3_600_000),
    });
    expect(err(await rt.identityDeletion.getActiveIdentityDeletionProcess()).code).toBe(
      CODE.noActiveIdentityDeletionProcess,
    );
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([rejected]);
  });

  test("approval period passes undecided: Cancelled with cancelledAt = approvalPeriodEndsAt (not the time of the job)", async () => {
    const rt = await w.runtime();
    const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    w.clock.advance({ days: 10 });
    await w.backbone.runDueJobs();
    const cancelled = ok(await rt.identityDeletion.getIdentityDeletionProcess({ id: started.id }));
    expectWellFormed(cancelled);
    expect(cancelled).toStrictEqual({
      id: started.id,
      status: "Cancelled",
      createdAt: at(0),
      approvalPeriodEndsAt: at(7 * DAY),
      cancelledAt: at(7 * DAY),
    });
    expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual([cancelled]);
    expect(err(await rt.identityDeletion.getActiveIdentityDeletionProcess()).code).toBe(
      CODE.noActiveIdentityDeletionProcess,
    );
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({ isDeleted: false });
  });

  test("cancel of an initiated process: Cancelled with cancelledAt = now, grace fields kept", async () => {
    const rt = await w.runtime();
    const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    w.clock.advance({ days: 13 });
    const cancelled = ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
    expectWellFormed(cancelled);
    expect(cancelled).toStrictEqual({
      id: initiated.id,
      status: "Cancelled",
      createdAt: at(0),
      approvedAt: at(0),
      gracePeriodEndsAt: at(14 * DAY),
      cancelledAt: at(13 * DAY),
    });
    expect(err(await rt.identityDeletion.getActiveIdentityDeletionProcess()).code).toBe(
      CODE.noActiveIdentityDeletionProcess,
    );
    // Once cancelled, the grace period's end deletes nothing.
    w.clock.advance({ days: 30 });
    await w.backbone.runDueJobs();
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({ isDeleted: false });
    ok(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: "alive" }));
  });

  test("cancel of an approved admin process: Cancelled with cancelledAt = now, every earlier field kept", async () => {
    const rt = await w.runtime();
    ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    w.clock.advance({ days: 1 });
    const approved = ok(await rt.identityDeletion.approveIdentityDeletionProcess());
    w.clock.advance({ days: 1 });
    const cancelled = ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
    expect(cancelled).toStrictEqual({ ...approved, status: "Cancelled", cancelledAt: at(2 * DAY) });
  });

  test("grace period passes: the process stays Approved, unchanged, and the identity is deleted", async () => {
    const rt = await w.runtime();
    const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    const events = recordEvents(rt, CHANGED);
    w.clock.advance({ days: 14, ms: 1 });
    await w.backbone.runDueJobs();
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([initiated]);
    expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual([initiated]);
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({
      isDeleted: true,
      deletionDate: at(14 * DAY),
    });
    // The deletion is not a status change: no status event.
    expect(events).toHaveLength(0);
  });

  test("after a Cancelled or Rejected process a new one can be started, with a new id", async () => {
    const rt = await w.runtime();
    const first = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
    const second = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    ok(await rt.identityDeletion.rejectIdentityDeletionProcess());
    const third = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    expect(new Set([first.id, second.id, third.id]).size).toBe(3);
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(third);
  });

  test("a Backbone with gracePeriodInDays 3 and approvalPeriodInDays 1 uses them for every default", async () => {
    await withWorld({ gracePeriodInDays: 3, approvalPeriodInDays: 1 }, async (v) => {
      const rt = await v.runtime();
      const started = ok(await v.backbone.admin.startIdentityDeletionProcess(rt.address));
      expect(started.approvalPeriodEndsAt).toBe(at(DAY));
      v.clock.advance({ hours: 12 });
      const approved = ok(await rt.identityDeletion.approveIdentityDeletionProcess());
      expect(approved.approvedAt).toBe(at(DAY / 2));
      expect(approved.gracePeriodEndsAt).toBe(at(DAY / 2 + 3 * DAY));
      ok(await rt.identityDeletion.cancelIdentityDeletionProcess());

      const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
      expect(initiated.gracePeriodEndsAt).toBe(at(DAY / 2 + 3 * DAY));
      ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
      // An explicit length wins over the Backbone's default.
      const explicit = ok(
        await rt.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 5 }),
      );
      expect(explicit.gracePeriodEndsAt).toBe(at(DAY / 2 + 5 * DAY));
      ok(await rt.identityDeletion.cancelIdentityDeletionProcess());

      // The 1-day approval period expires by itself after one day.
      const other = ok(await v.backbone.admin.startIdentityDeletionProcess(rt.address));
      v.clock.advance({ days: 1, ms: 1 });
      await v.backbone.runDueJobs();
      const expired = ok(await rt.identityDeletion.getIdentityDeletionProcess({ id: other.id }));
      expect(expired.status).toBe("Cancelled");
      expect(expired.cancelledAt).toBe(at(DAY / 2 + DAY));
    });
  });
});

describe("errors (behaviour §4): documented codes, messages naming the address or id, nothing changed", () => {
  test.each<["initiate" | "admin", "initiate" | "admin"]>([
    ["initiate", "initiate"],
    ["initiate", "admin"],
    ["admin", "initiate"],
    ["admin", "admin"],
  ])(
    "after %s, a second start by %s is activeIdentityDeletionProcessAlreadyExists",
    async (first, second) => {
      const rt = await w.runtime();
      const start = (by: "initiate" | "admin") =>
        by === "initiate"
          ? rt.identityDeletion.initiateIdentityDeletionProcess()
          : w.backbone.admin.startIdentityDeletionProcess(rt.address);
      const existing = ok(await start(first));
      expect(existing.status).toBe(first === "initiate" ? "Approved" : "WaitingForApproval");
      w.clock.advance({ hours: 1 });
      failure(
        await changesNothing(w, rt, () => start(second)),
        CODE.activeIdentityDeletionProcessAlreadyExists,
        rt.address,
      );
      expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(existing);
    },
  );

  test("a start after an admin process was approved is activeIdentityDeletionProcessAlreadyExists", async () => {
    const rt = await w.runtime();
    ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    ok(await rt.identityDeletion.approveIdentityDeletionProcess());
    failure(
      await changesNothing(w, rt, () => rt.identityDeletion.initiateIdentityDeletionProcess()),
      CODE.activeIdentityDeletionProcessAlreadyExists,
      rt.address,
    );
    failure(
      await changesNothing(w, rt, () => w.backbone.admin.startIdentityDeletionProcess(rt.address)),
      CODE.activeIdentityDeletionProcessAlreadyExists,
      rt.address,
    );
  });

  test("the admin cannot start a process for an address the Backbone does not know", async () => {
    const error = err(await w.backbone.admin.startIdentityDeletionProcess(UNKNOWN_ADDRESS));
    expect(error.code).toBe(CODE.recordNotFound);
    expect(error.message).toContain(UNKNOWN_ADDRESS);
  });

  describe.each(["approve", "reject"] as const)("%s without a WaitingForApproval process", (decision) => {
    const decide = (rt: Runtime) =>
      decision === "approve"
        ? rt.identityDeletion.approveIdentityDeletionProcess()
        : rt.identityDeletion.rejectIdentityDeletionProcess();

    test("with no process at all", async () => {
      const rt = await w.runtime();
      failure(
        await changesNothing(w, rt, () => decide(rt)),
        CODE.noWaitingForApprovalIdentityDeletionProcess,
        rt.address,
      );
    });

    test("with an Approved (self-initiated) process", async () => {
      const rt = await w.runtime();
      ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
      failure(
        await changesNothing(w, rt, () => decide(rt)),
        CODE.noWaitingForApprovalIdentityDeletionProcess,
        rt.address,
      );
    });

    test("with an admin process that was already approved, rejected or cancelled", async () => {
      const rt = await w.runtime();
      ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
      ok(await rt.identityDeletion.approveIdentityDeletionProcess());
      failure(
        await changesNothing(w, rt, () => decide(rt)),
        CODE.noWaitingForApprovalIdentityDeletionProcess,
        rt.address,
      );
      ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
      failure(
        await changesNothing(w, rt, () => decide(rt)),
        CODE.noWaitingForApprovalIdentityDeletionProcess,
        rt.address,
      );
      ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
      ok(await rt.identityDeletion.rejectIdentityDeletionProcess());
      failure(
        await changesNothing(w, rt, () => decide(rt)),
        CODE.noWaitingForApprovalIdentityDeletionProcess,
        rt.address,
      );
    });

    test("once the approval period has passed, without runDueJobs: the expiry applies first, lazily", async () => {
      const rt = await w.runtime();
      const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
      const events = recordEvents(rt, CHANGED);
      w.clock.advance({ days: 7, ms: 1 });
      failure(await decide(rt), CODE.noWaitingForApprovalIdentityDeletionProcess, rt.address);
      const expired = {
        ...started,
        status: "Cancelled",
        cancelledAt: started.approvalPeriodEndsAt,
      };
      // The only change is the expiry, announced once; the decision itself changed nothing.
      expect(events.map((event) => event.data)).toStrictEqual([expired]);
      expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([expired]);
      expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual([expired]);
      await w.backbone.runDueJobs();
      expect(events).toHaveLength(1);
    });
  });

  describe("cancel without an Approved process", () => {
    test("with no process at all", async () => {
      const rt = await w.runtime();
      failure(
        await changesNothing(w, rt, () => rt.identityDeletion.cancelIdentityDeletionProcess()),
        CODE.noApprovedIdentityDeletionProcess,
        rt.address,
      );
    });

    test("with a WaitingForApproval process", async () => {
      const rt = await w.runtime();
      ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
      failure(
        await changesNothing(w, rt, () => rt.identityDeletion.cancelIdentityDeletionProcess()),
        CODE.noApprovedIdentityDeletionProcess,
        rt.address,
      );
    });

    test("with a process that is already Cancelled or Rejected", async () => {
      const rt = await w.runtime();
      ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
      ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
      failure(
        await changesNothing(w, rt, () => rt.identityDeletion.cancelIdentityDeletionProcess()),
        CODE.noApprovedIdentityDeletionProcess,
        rt.address,
      );
      ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
      ok(await rt.identityDeletion.rejectIdentityDeletionProcess());
      failure(
        await changesNothing(w, rt, () => rt.identityDeletion.cancelIdentityDeletionProcess()),
        CODE.noApprovedIdentityDeletionProcess,
        rt.address,
      );
    });

    test("once the grace period has passed, without runDueJobs", async () => {
      const rt = await w.runtime();
      const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
      const events = recordEvents(rt, CHANGED);
      w.clock.advance({ days: 14, ms: 1 });
      failure(
        await rt.identityDeletion.cancelIdentityDeletionProcess(),
        CODE.noApprovedIdentityDeletionProcess,
        rt.address,
      );
      expect(events).toHaveLength(0);
      expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([initiated]);
      expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual([initiated]);
    });

    test("once the grace period has passed, after runDueJobs", async () => {
      const rt = await w.runtime();
      ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
      w.clock.advance({ days: 15 });
      await w.backbone.runDueJobs();
      failure(
        await changesNothing(w, rt, () => rt.identityDeletion.cancelIdentityDeletionProcess()),
        CODE.noApprovedIdentityDeletionProcess,
        rt.address,
      );
    });
  });

  describe("getActiveIdentityDeletionProcess without an active one: noActiveIdentityDeletionProcess", () => {
    test("with no process at all", async () => {
      const rt = await w.runtime();
      failure(
        await rt.identityDeletion.getActiveIdentityDeletionProcess(),
        CODE.noActiveIdentityDeletionProcess,
        rt.address,
      );
    });

    test.each(["cancelled", "rejected", "expired"] as const)("after the only process was %s", async (end) => {
      const rt = await w.runtime();
      if (end === "cancelled") {
        ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
        ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
      } else {
        ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
        if (end === "rejected") ok(await rt.identityDeletion.rejectIdentityDeletionProcess());
        else {
          w.clock.advance({ days: 8 });
          await w.backbone.runDueJobs();
        }
      }
      failure(
        await rt.identityDeletion.getActiveIdentityDeletionProcess(),
        CODE.noActiveIdentityDeletionProcess,
        rt.address,
      );
    });
  });

  test("getIdentityDeletionProcess of an unknown well-formed id: recordNotFound naming the id", async () => {
    const rt = await w.runtime();
    ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    const unknown = "IDP" + "a".repeat(17);
    failure(
      await rt.identityDeletion.getIdentityDeletionProcess({ id: unknown }),
      CODE.recordNotFound,
      unknown,
    );
  });

  test.each<[string, unknown]>([
    ["a too short id", { id: "IDP123" }],
    ["a too long id", { id: "IDP" + "a".repeat(18) }],
    ["an id of another kind", { id: "IDM" + "a".repeat(17) }],
    ["an id with a forbidden character", { id: "IDP" + "a".repeat(16) + "-" }],
    ["an id embedded in spaces", { id: " IDP" + "a".repeat(17) + " " }],
    ["a number", { id: 42 }],
    ["null", { id: null }],
    ["a missing id", {}],
  ])("getIdentityDeletionProcess with %s is a validation error naming id", async (_label, request) => {
    const rt = await w.runtime();
    failure(
      await rt.identityDeletion.getIdentityDeletionProcess(request as never),
      CODE.invalidPropertyValue,
      "id",
    );
  });

  test("getIdentityDeletionProcess with an unknown extra property is a validation error naming it", async () => {
    const rt = await w.runtime();
    const process = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    failure(
      await rt.identityDeletion.getIdentityDeletionProcess({ id: process.id, extra: 1 } as never),
      CODE.invalidPropertyValue,
      "extra",
    );
  });

  test.each<[string, string, unknown]>([
    ["-1", "lengthOfGracePeriodInDays", { lengthOfGracePeriodInDays: -1 }],
    ["-0.001", "lengthOfGracePeriodInDays", { lengthOfGracePeriodInDays: -0.001 }],
    ["NaN", "lengthOfGracePeriodInDays", { lengthOfGracePeriodInDays: Number.NaN }],
    ["Infinity", "lengthOfGracePeriodInDays", { lengthOfGracePeriodInDays: Number.POSITIVE_INFINITY }],
    ["the string '3'", "lengthOfGracePeriodInDays", { lengthOfGracePeriodInDays: "3" }],
    ["null", "lengthOfGracePeriodInDays", { lengthOfGracePeriodInDays: null }],
    ["an unknown property", "graceDays", { lengthOfGracePeriodInDays: 3, graceDays: 3 }],
    ["a request that is not an object", "request", "3"],
  ])(
    "initiate with %s is a validation error naming %s, and no process is created",
    async (_label, property, request) => {
      const rt = await w.runtime();
      failure(
        await changesNothing(w, rt, () =>
          rt.identityDeletion.initiateIdentityDeletionProcess(request as never),
        ),
        CODE.invalidPropertyValue,
        property,
      );
      expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([]);
      expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual([]);
    },
  );
});

describe("period boundaries: a period includes its end instant", () => {
  test.each(["approve", "reject"] as const)(
    "%s at exactly approvalPeriodEndsAt succeeds",
    async (decision) => {
      const rt = await w.runtime();
      const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
      w.clock.set(new Date(started.approvalPeriodEndsAt as string));
      await w.backbone.runDueJobs();
      const decided = ok(
        decision === "approve"
          ? await rt.identityDeletion.approveIdentityDeletionProcess()
          : await rt.identityDeletion.rejectIdentityDeletionProcess(),
      );
      expect(decided.status).toBe(decision === "approve" ? "Approved" : "Rejected");
      expect(decision === "approve" ? decided.approvedAt : decided.rejectedAt).toBe(at(7 * DAY));
    },
  );

  test.each(["approve", "reject"] as const)(
    "%s 1 ms after approvalPeriodEndsAt is noWaitingForApprovalIdentityDeletionProcess",
    async (decision) => {
      const rt = await w.runtime();
      const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
      w.clock.set(new Date(Date.parse(started.approvalPeriodEndsAt as string) + 1));
      const result =
        decision === "approve"
          ? await rt.identityDeletion.approveIdentityDeletionProcess()
          : await rt.identityDeletion.rejectIdentityDeletionProcess();
      failure(result, CODE.noWaitingForApprovalIdentityDeletionProcess, rt.address);
    },
  );

  test("the approval expiry is not due at exactly approvalPeriodEndsAt, and is 1 ms later", async () => {
    const rt = await w.runtime();
    const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    const events = recordEvents(rt, CHANGED);
    w.clock.set(new Date(started.approvalPeriodEndsAt as string));
    await w.backbone.runDueJobs();
    expect(events).toHaveLength(0);
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(started);
    w.clock.advance({ ms: 1 });
    await w.backbone.runDueJobs();
    expect(events.map((event) => event.data.status)).toStrictEqual(["Cancelled"]);
  });

  test("cancel at exactly gracePeriodEndsAt succeeds, and the identity is not deleted then", async () => {
    const rt = await w.runtime();
    const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    w.clock.set(new Date(initiated.gracePeriodEndsAt as string));
    await w.backbone.runDueJobs();
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({
      isDeleted: false,
      deletionDate: initiated.gracePeriodEndsAt,
    });
    const cancelled = ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
    expect(cancelled.cancelledAt).toBe(initiated.gracePeriodEndsAt);
    w.clock.advance({ days: 1 });
    await w.backbone.runDueJobs();
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({ isDeleted: false });
  });

  test("cancel 1 ms after gracePeriodEndsAt is noApprovedIdentityDeletionProcess", async () => {
    const rt = await w.runtime();
    const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    w.clock.set(new Date(Date.parse(initiated.gracePeriodEndsAt as string) + 1));
    failure(
      await rt.identityDeletion.cancelIdentityDeletionProcess(),
      CODE.noApprovedIdentityDeletionProcess,
      rt.address,
    );
  });

  test("the identity counts as deleted only strictly after gracePeriodEndsAt: mutations pass at it, fail 1 ms later", async () => {
    const rt = await w.runtime();
    const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    w.clock.set(new Date(initiated.gracePeriodEndsAt as string));
    await w.backbone.runDueJobs();
    ok(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: "at the end" }));
    ok(await rt.relationships.createOwnRelationshipTemplate());
    w.clock.advance({ ms: 1 });
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({
      isDeleted: true,
      deletionDate: initiated.gracePeriodEndsAt,
    });
    failure(
      await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: "after" }),
      CODE.identityDeleted,
      rt.address,
    );
  });

  test("a grace period of 0 days: cancellable at the very instant of initiation, deleted 1 ms later", async () => {
    const rt = await w.runtime();
    const initiated = ok(
      await rt.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 0 }),
    );
    expect(initiated.gracePeriodEndsAt).toBe(initiated.createdAt);
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted()).isDeleted).toBe(false);
    ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
    ok(await rt.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 0 }));
    w.clock.advance({ ms: 1 });
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted()).isDeleted).toBe(true);
  });
});

describe("reads", () => {
  test("getIdentityDeletionProcesses is [] when there is none", async () => {
    const rt = await w.runtime();
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([]);
  });

  test("getIdentityDeletionProcesses lists all, Cancelled and Rejected included, oldest first, each as stored", async () => {
    const rt = await w.runtime();
    ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    w.clock.advance({ hours: 1 });
    const cancelled = ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
    w.clock.advance({ hours: 1 });
    ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    const rejected = ok(await rt.identityDeletion.rejectIdentityDeletionProcess());
    w.clock.advance({ hours: 1 });
    ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    w.clock.advance({ days: 8 });
    await w.backbone.runDueJobs();
    const expired = ok(await w.backbone.getIdentityDeletionProcesses(rt.address))[2];
    w.clock.advance({ hours: 1 });
    const active = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    const all = ok(await rt.identityDeletion.getIdentityDeletionProcesses());
    expect(all).toStrictEqual([cancelled, rejected, expired, active]);
    expect(all.map((process) => process.status)).toStrictEqual([
      "Cancelled",
      "Rejected",
      "Cancelled",
      "Approved",
    ]);
    all.forEach(expectWellFormed);
    for (const process of all) {
      expect(ok(await rt.identityDeletion.getIdentityDeletionProcess({ id: process.id }))).toStrictEqual(
        process,
      );
    }
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(active);
    // The runtime's copy matches the Backbone's.
    expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual(all);
  });

  test("returned DTOs are copies: changing one changes neither what is stored nor the active process", async () => {
    const rt = await w.runtime();
    const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    const snapshot = { ...initiated };
    (initiated as { status: string }).status = "Cancelled";
    const read = ok(await rt.identityDeletion.getActiveIdentityDeletionProcess());
    expect(read).toStrictEqual(snapshot);
    (read as { gracePeriodEndsAt?: string }).gracePeriodEndsAt = "x";
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcess({ id: snapshot.id }))).toStrictEqual(
      snapshot,
    );
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(snapshot);
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({
      isDeleted: false,
      deletionDate: snapshot.gracePeriodEndsAt,
    });
  });

  test("a caller editing a returned DTO cannot make its runtime count itself deleted", async () => {
    const rt = await w.runtime();
    const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    initiated.gracePeriodEndsAt = "2000-01-01T00:00:00.000Z";
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted()).isDeleted).toBe(false);
    ok(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: "alive" }));
  });

  test("a listener editing the event's data changes neither the caller's result nor the stored process", async () => {
    const rt = await w.runtime();
    rt.events.on(CHANGED, (event) => {
      (event.data as { status: string }).status = "Rejected";
      event.data.gracePeriodEndsAt = "2000-01-01T00:00:00.000Z";
    });
    const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    expect(initiated.status).toBe("Approved");
    expect(initiated.gracePeriodEndsAt).toBe(at(14 * DAY));
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(initiated);
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted()).isDeleted).toBe(false);
    ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
    const started = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    expect(started.status).toBe("WaitingForApproval");
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(started);
  });

  test("checkIfIdentityIsDeleted: {isDeleted:false} without process or while waiting, with deletionDate while Approved", async () => {
    const rt = await w.runtime();
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({ isDeleted: false });
    ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({ isDeleted: false });
    const approved = ok(await rt.identityDeletion.approveIdentityDeletionProcess());
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({
      isDeleted: false,
      deletionDate: approved.gracePeriodEndsAt,
    });
    ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
    expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({ isDeleted: false });
  });
});

describe("events: transport.identityDeletionProcessStatusChanged, once per change, only to the identity concerned", () => {
  test("initiate, cancel, admin start, approve, reject and the approval expiry each publish the DTO once", async () => {
    const rt = await w.runtime();
    const bystander = await w.runtime();
    const events = recordEvents(rt, CHANGED);
    const elsewhere = recordEvents(bystander, CHANGED);
    const expected: IdentityDeletionProcessDTO[] = [];

    expected.push(ok(await rt.identityDeletion.initiateIdentityDeletionProcess()));
    expect(events.map((event) => event.data)).toStrictEqual(expected);
    expected.push(ok(await rt.identityDeletion.cancelIdentityDeletionProcess()));
    expect(events.map((event) => event.data)).toStrictEqual(expected);

    // The admin's start reaches the runtime before the admin's call resolves.
    expected.push(
      await w.backbone.admin.startIdentityDeletionProcess(rt.address).then((result) => {
        expect(events).toHaveLength(expected.length + 1);
        return ok(result);
      }),
    );
    expect(events.map((event) => event.data)).toStrictEqual(expected);
    expected.push(ok(await rt.identityDeletion.approveIdentityDeletionProcess()));
    expect(events.map((event) => event.data)).toStrictEqual(expected);
    expected.push(ok(await rt.identityDeletion.cancelIdentityDeletionProcess()));

    expected.push(ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address)));
    expected.push(ok(await rt.identityDeletion.rejectIdentityDeletionProcess()));
    expect(events.map((event) => event.data)).toStrictEqual(expected);

    const waiting = ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    expected.push(waiting);
    w.clock.advance({ days: 7, ms: 1 });
    await w.backbone.runDueJobs();
    expected.push({ ...waiting, status: "Cancelled", cancelledAt: waiting.approvalPeriodEndsAt });
    expect(events.map((event) => event.data)).toStrictEqual(expected);
    expect(events.map((event) => event.data.status)).toStrictEqual([
      "Approved",
      "Cancelled",
      "WaitingForApproval",
      "Approved",
      "Cancelled",
      "WaitingForApproval",
      "Rejected",
      "WaitingForApproval",
      "Cancelled",
    ]);
    for (const event of events) {
      expect(event.name).toBe(CHANGED);
      expect(event.eventTargetAddress).toBe(rt.address);
    }
    // Nothing more happens later, and nobody else heard anything.
    w.clock.advance({ days: 30 });
    await w.backbone.runDueJobs();
    expect(events).toHaveLength(expected.length);
    expect(elsewhere).toHaveLength(0);
  });

  test("a listener that throws breaks neither the call nor the state", async () => {
    const errors: unknown[] = [];
    const rt = await w.runtime({ onListenerError: (error) => void errors.push(error) });
    rt.events.on(CHANGED, () => {
      throw new Error("listener failed");
    });
    const initiated = ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(initiated);
    ok(await rt.identityDeletion.cancelIdentityDeletionProcess());
    ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    expect(errors).toHaveLength(3);
  });
});

describe("expiries run by themselves with the system clock", () => {
  test("a grace period of 0 days: the identity is deleted without anyone running the jobs", async () => {
    const backbone = new LocalBackbone();
    const rt = await createRuntime({ backbone });
    try {
      const initiated = ok(
        await rt.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 0 }),
      );
      expect(initiated.gracePeriodEndsAt).toBe(initiated.createdAt);
      await eventually(async () => ok(await rt.identityDeletion.checkIfIdentityIsDeleted()).isDeleted);
      expect(ok(await rt.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({
        isDeleted: true,
        deletionDate: initiated.gracePeriodEndsAt,
      });
      failure(
        await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: 1 }),
        CODE.identityDeleted,
        rt.address,
      );
      failure(
        await rt.identityDeletion.cancelIdentityDeletionProcess(),
        CODE.noApprovedIdentityDeletionProcess,
        rt.address,
      );
    } finally {
      await rt.close();
      await backbone.close();
    }
  });

  test("an approval period of 0 days: the Cancelled event arrives by itself", async () => {
    const backbone = new LocalBackbone({ approvalPeriodInDays: 0 });
    const rt = await createRuntime({ backbone });
    try {
      const cancelledEvent = nextStatusEvent(rt, (process) => process.status === "Cancelled");
      const started = ok(await backbone.admin.startIdentityDeletionProcess(rt.address));
      expect(started.approvalPeriodEndsAt).toBe(started.createdAt);
      const event = await cancelledEvent;
      expect(event.data).toStrictEqual({
        ...started,
        status: "Cancelled",
        cancelledAt: started.approvalPeriodEndsAt,
      });
      expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([event.data]);
      failure(
        await rt.identityDeletion.getActiveIdentityDeletionProcess(),
        CODE.noActiveIdentityDeletionProcess,
        rt.address,
      );
    } finally {
      await rt.close();
      await backbone.close();
    }
  });

  test("runsDueJobsItself: false: nothing expires until runDueJobs()", async () => {
    const backbone = new LocalBackbone({ approvalPeriodInDays: 0, runsDueJobsItself: false });
    const rt = await createRuntime({ backbone });
    try {
      const events = recordEvents(rt, CHANGED);
      const started = ok(await backbone.admin.startIdentityDeletionProcess(rt.address));
      await realTime(40);
      expect(events.map((event) => event.data)).toStrictEqual([started]);
      expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(started);
      await backbone.runDueJobs();
      expect(events.map((event) => event.data.status)).toStrictEqual(["WaitingForApproval", "Cancelled"]);
    } finally {
      await rt.close();
      await backbone.close();
    }
  });

  test("a ManualClock Backbone runs nothing by itself", async () => {
    const rt = await w.runtime();
    const events = recordEvents(rt, CHANGED);
    ok(await w.backbone.admin.startIdentityDeletionProcess(rt.address));
    w.clock.advance({ days: 30 });
    await realTime(20);
    expect(events).toHaveLength(1);
    await w.backbone.runDueJobs();
    expect(events).toHaveLength(2);
  });
});

describe("concurrency: at most one active process, atomically", () => {
  test("20 parallel initiates: exactly one succeeds, 19 × activeIdentityDeletionProcessAlreadyExists, one process", async () => {
    const rt = await w.runtime();
    const events = recordEvents(rt, CHANGED);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        rt.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: i + 1 }),
      ),
    );
    const succeeded = results.filter((result) => result.ok).map((result) => ok(result));
    expect(succeeded).toHaveLength(1);
    const failed = results.filter((result) => result.err).map((result) => err(result).code);
    expect(failed).toStrictEqual(
      Array.from({ length: 19 }, () => CODE.activeIdentityDeletionProcessAlreadyExists),
    );
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual(succeeded);
    expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual(succeeded);
    expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(succeeded[0]);
    expect(events.map((event) => event.data)).toStrictEqual(succeeded);
  });

  test.each(["admin first", "initiate first"] as const)(
    "an admin start racing an initiate (%s): exactly one active process, the same on both sides",
    async (order) => {
      const rt = await w.runtime();
      const admin = () => w.backbone.admin.startIdentityDeletionProcess(rt.address);
      const initiate = () => rt.identityDeletion.initiateIdentityDeletionProcess();
      const results =
        order === "admin first"
          ? await Promise.all([admin(), initiate()])
          : await Promise.all([initiate(), admin()]);
      const succeeded = results.filter((result) => result.ok).map((result) => ok(result));
      expect(succeeded).toHaveLength(1);
      expect(results.filter((result) => result.err).map((result) => err(result).code)).toStrictEqual([
        CODE.activeIdentityDeletionProcessAlreadyExists,
      ]);
      expect(ok(await rt.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(succeeded[0]);
      expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual(succeeded);
      expect(ok(await w.backbone.getIdentityDeletionProcesses(rt.address))).toStrictEqual(succeeded);
    },
  );

  test("racing decisions leave the runtime's copy equal to the Backbone's", async () => {
    const rt = await w.runtime();
    await Promise.all([
      rt.identityDeletion.initiateIdentityDeletionProcess(),
      rt.identityDeletion.cancelIdentityDeletionProcess(),
      w.backbone.admin.startIdentityDeletionProcess(rt.address),
      rt.identityDeletion.rejectIdentityDeletionProcess(),
      rt.identityDeletion.initiateIdentityDeletionProcess(),
    ]);
    // The calls ran in some order, one at a time as far as anyone can tell (on PostgreSQL truly side by side).
    const remote = ok(await w.backbone.getIdentityDeletionProcesses(rt.address));
    const active = remote.filter((process) => ["WaitingForApproval", "Approved"].includes(process.status));
    expect(active.length).toBeLessThanOrEqual(1);
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual(remote);
    const local = await rt.identityDeletion.getActiveIdentityDeletionProcess();
    if (active[0] === undefined) expect(err(local).code).toBe(CODE.noActiveIdentityDeletionProcess);
    else expect(ok(local)).toStrictEqual(active[0]);
  });
});

/**
 * `a` with something of every kind a mutating call could touch: metadata, a Pending relationship from its
 * template (b; a may accept or reject), a Pending one it created (c; a may revoke), an Active one (d; a may
 * terminate, send, ask, and decide d's incoming request), a Terminated one (e; a may decompose), and a
 * template of f it could use.
 */
async function deletableIdentity(v: ReturnType<typeof world>, options: { lagging?: boolean } = {}) {
  const a = await v.runtime(options.lagging === true ? { clock: new ManualClock(START) } : {});
  const [b, c, d, e, f] = [
    await v.runtime(),
    await v.runtime(),
    await v.runtime(),
    await v.runtime(),
    await v.runtime(),
  ];
  const relate = async (creator: Runtime, requestor: Runtime, accept: boolean) => {
    const template = ok(await creator.relationships.createOwnRelationshipTemplate());
    const relationship = ok(await requestor.relationships.createRelationship({ templateId: template.id }));
    if (accept) ok(await creator.relationships.acceptRelationship({ relationshipId: relationship.id }));
    return relationship.id;
  };
  const pendingFromOwnTemplate = await relate(a, b, false);
  const pendingCreatedByA = await relate(c, a, false);
  const active = await relate(a, d, true);
  const terminated = await relate(a, e, true);
  ok(await a.relationships.terminateRelationship({ relationshipId: terminated }));
  const fTemplate = ok(await f.relationships.createOwnRelationshipTemplate());
  ok(await a.identityMetadata.upsertIdentityMetadata({ reference: a.address, value: "mine" }));
  ok(await a.identityMetadata.upsertIdentityMetadata({ reference: d.address, key: "k", value: "about d" }));
  ok(await a.messages.sendMessage({ recipients: [d.address], content: { text: "hello" } }));
  ok(await d.messages.sendMessage({ recipients: [a.address], content: { text: "hi" } }));
  const fromD = ok(await d.requests.createOutgoingRequest({ peer: a.address, content: { question: "?" } }));
  ok(await d.messages.sendMessage({ recipients: [a.address], content: fromD.content }));

  const peers = [b, c, d, e, f];
  const snapshot = async () => ({
    metadata: [
      await a.identityMetadata.getIdentityMetadata({ reference: a.address }),
      await a.identityMetadata.getIdentityMetadata({ reference: d.address, key: "k" }),
    ].map((result) => ok(result)),
    relationships: ok(await a.relationships.getRelationships()),
    templates: ok(await a.relationships.getRelationshipTemplates()),
    messages: ok(await a.messages.getMessages()),
    outgoingRequests: ok(await a.requests.getOutgoingRequests()),
    incomingRequests: ok(await a.requests.getIncomingRequests()),
    processes: ok(await a.identityDeletion.getIdentityDeletionProcesses()),
    peers: await Promise.all(
      peers.map(async (peer) => ({
        relationships: ok(await peer.relationships.getRelationships()),
        messages: ok(await peer.messages.getMessages()),
        requests: ok(await peer.requests.getOutgoingRequests()),
      })),
    ),
  });

  /** Every mutating call `a` could make, each of which would succeed if `a` were not deleted. */
  const mutations: [string, () => Promise<RuntimeResult<unknown>>][] = [
    [
      "upsertIdentityMetadata",
      () => a.identityMetadata.upsertIdentityMetadata({ reference: a.address, value: "changed" }),
    ],
    ["deleteIdentityMetadata", () => a.identityMetadata.deleteIdentityMetadata({ reference: a.address })],
    ["createOwnRelationshipTemplate", () => a.relationships.createOwnRelationshipTemplate()],
    ["createRelationship", () => a.relationships.createRelationship({ templateId: fTemplate.id })],
    [
      "acceptRelationship",
      () => a.relationships.acceptRelationship({ relationshipId: pendingFromOwnTemplate }),
    ],
    [
      "rejectRelationship",
      () => a.relationships.rejectRelationship({ relationshipId: pendingFromOwnTemplate }),
    ],
    ["revokeRelationship", () => a.relationships.revokeRelationship({ relationshipId: pendingCreatedByA })],
    ["sendMessage", () => a.messages.sendMessage({ recipients: [d.address], content: { text: "bye" } })],
    [
      "createOutgoingRequest",
      () => a.requests.createOutgoingRequest({ peer: d.address, content: { question: "!" } }),
    ],
    ["acceptIncomingRequest", () => a.requests.acceptIncomingRequest({ requestId: fromD.id })],
    ["rejectIncomingRequest", () => a.requests.rejectIncomingRequest({ requestId: fromD.id })],
    ["terminateRelationship", () => a.relationships.terminateRelationship({ relationshipId: active })],
    ["decomposeRelationship", () => a.relationships.decomposeRelationship({ relationshipId: terminated })],
  ];
  return { a, b, d, snapshot, mutations, incomingRequestId: fromD.id };
}

describe("deleted identity (behaviour §6)", () => {
  test("once the grace period has passed: every mutating call is identityDeleted and changes nothing; reads work", async () => {
    const { a, snapshot, mutations, incomingRequestId } = await deletableIdentity(w);
    const initiated = ok(await a.identityDeletion.initiateIdentityDeletionProcess());
    expect(ok(await a.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({
      isDeleted: false,
      deletionDate: initiated.gracePeriodEndsAt,
    });
    w.clock.advance({ days: 14, ms: 1 });
    await w.backbone.runDueJobs();
    expect(ok(await a.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({
      isDeleted: true,
      deletionDate: initiated.gracePeriodEndsAt,
    });

    const before = await snapshot();
    const events = recordEvents(
      a,
      CHANGED,
      "transport.relationshipChanged",
      "transport.relationshipDecomposedBySelf",
      "transport.messageReceived",
    );
    for (const [name, call] of mutations) {
      const error = err(await call());
      expect([name, error.code]).toStrictEqual([name, CODE.identityDeleted]);
      expect(error.message).toContain(a.address);
    }
    expect(await snapshot()).toStrictEqual(before);
    expect(events).toHaveLength(0);

    // Reads keep working and show what was there.
    expect(before.metadata.map((record) => record.value)).toStrictEqual(["mine", "about d"]);
    expect(before.relationships).toHaveLength(4);
    expect(before.messages).toHaveLength(3);
    expect(before.incomingRequests.map((request) => [request.id, request.status])).toStrictEqual([
      [incomingRequestId, "ManualDecisionRequired"],
    ]);
    expect(before.processes).toStrictEqual([initiated]);
    expect(ok(await a.identityDeletion.getIdentityDeletionProcess({ id: initiated.id }))).toStrictEqual(
      initiated,
    );
  });

  test("the deletion facade keeps its own answers: cancel → noApproved, initiate → alreadyExists, approve → noWaiting", async () => {
    const rt = await w.runtime();
    ok(await rt.identityDeletion.initiateIdentityDeletionProcess());
    w.clock.advance({ days: 15 });
    await w.backbone.runDueJobs();
    failure(
      await changesNothing(w, rt, () => rt.identityDeletion.cancelIdentityDeletionProcess()),
      CODE.noApprovedIdentityDeletionProcess,
      rt.address,
    );
    failure(
      await changesNothing(w, rt, () => rt.identityDeletion.initiateIdentityDeletionProcess()),
      CODE.activeIdentityDeletionProcessAlreadyExists,
      rt.address,
    );
    failure(
      await changesNothing(w, rt, () => rt.identityDeletion.approveIdentityDeletionProcess()),
      CODE.noWaitingForApprovalIdentityDeletionProcess,
      rt.address,
    );
    failure(
      await changesNothing(w, rt, () => w.backbone.admin.startIdentityDeletionProcess(rt.address)),
      CODE.activeIdentityDeletionProcessAlreadyExists,
      rt.address,
    );
  });

  test("the guard applies before runDueJobs, as soon as the clock has passed gracePeriodEndsAt", async () => {
    const { a, snapshot, mutations } = await deletableIdentity(w);
    ok(await a.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 1 }));
    w.clock.advance({ days: 1, ms: 1 });
    const before = await snapshot();
    for (const [name, call] of mutations) {
      expect([name, err(await call()).code]).toStrictEqual([name, CODE.identityDeleted]);
    }
    expect(await snapshot()).toStrictEqual(before);
  });

  test("the Backbone refuses a deleted identity's actions too (a runtime whose clock lags behind)", async () => {
    const { a, snapshot, mutations } = await deletableIdentity(w, { lagging: true });
    ok(await a.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 1 }));
    w.clock.advance({ days: 2 });
    await w.backbone.runDueJobs();
    // The runtime's own clock has not reached the end of the grace period, so only the Backbone can refuse.
    expect(ok(await a.identityDeletion.checkIfIdentityIsDeleted()).isDeleted).toBe(false);
    const before = await snapshot();
    const backboneActions = [
      "createOwnRelationshipTemplate",
      "createRelationship",
      "acceptRelationship",
      "rejectRelationship",
      "revokeRelationship",
      "terminateRelationship",
      "sendMessage",
    ];
    for (const [name, call] of mutations.filter(([name]) => backboneActions.includes(name))) {
      const error = err(await call());
      expect([name, error.code]).toStrictEqual([name, CODE.identityDeleted]);
      expect(error.message).toContain(a.address);
    }
    expect(await snapshot()).toStrictEqual(before);
    // And through the Backbone port directly.
    expect(err(await w.backbone.createRelationshipTemplate(a.address, {})).code).toBe(CODE.identityDeleted);
  });

  test("a process still in its grace period guards nothing", async () => {
    const { a, mutations } = await deletableIdentity(w);
    ok(await a.identityDeletion.initiateIdentityDeletionProcess());
    w.clock.advance({ days: 13 });
    await w.backbone.runDueJobs();
    const undecidedTwice = ["rejectRelationship", "rejectIncomingRequest"];
    for (const [name, call] of mutations.filter(([name]) => !undecidedTwice.includes(name))) {
      const result = await call();
      expect([name, result.ok ? "ok" : result.val.toString()]).toStrictEqual([name, "ok"]);
    }
  });
});

/** A storage adapter that remembers every collection written to, so a test can look into all of them. */
function trackedStorage(): { storage: StorageAdapter; inner: StorageAdapter; collections: Set<string> } {
  const inner = lokiStorage();
  const collections = new Set<string>();
  const storage: StorageAdapter = delegating(inner, (target) => ({
    upsertBySlot: (collection, record) => {
      collections.add(collection);
      return target.upsertBySlot(collection, record);
    },
    commit: (changes) => {
      for (const change of changes) if (change.kind !== "notify") collections.add(change.collection);
      return target.commit(changes);
    },
  }));
  return { storage, inner, collections };
}

describe("eraseLocalData", () => {
  test("before the deletion: identityNotDeleted, and everything is still there", async () => {
    const { a, snapshot } = await deletableIdentity(w);
    const before = await snapshot();
    failure(await a.eraseLocalData(), CODE.identityNotDeleted, a.address);
    expect(await snapshot()).toStrictEqual(before);
    ok(await a.identityDeletion.initiateIdentityDeletionProcess());
    // At the last instant of the grace period the identity is not deleted yet.
    w.clock.advance({ days: 14 });
    await w.backbone.runDueJobs();
    const during = await snapshot();
    failure(await a.eraseLocalData(), CODE.identityNotDeleted, a.address);
    expect(await snapshot()).toStrictEqual(during);
    expect(during.processes).toHaveLength(1);
    const own = ({ processes: _processes, peers: _peers, ...local }: typeof before) => local;
    expect(own(during)).toStrictEqual(own(before));
    // The runtime is still open.
    ok(await a.identityMetadata.upsertIdentityMetadata({ reference: a.address, value: "still here" }));
  });

  test("after the deletion: erases everything of the identity, closes the runtime, a new runtime is a new identity", async () => {
    const { storage, inner, collections } = trackedStorage();
    try {
      const a = await w.runtime({ storage });
      const peer = await w.runtime();
      const template = ok(await a.relationships.createOwnRelationshipTemplate());
      const relationship = ok(await peer.relationships.createRelationship({ templateId: template.id }));
      ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
      ok(await a.identityMetadata.upsertIdentityMetadata({ reference: peer.address, value: { x: 1 } }));
      ok(await a.messages.sendMessage({ recipients: [peer.address], content: "hello" }));
      ok(await peer.messages.sendMessage({ recipients: [a.address], content: "hi" }));
      const question = ok(await peer.requests.createOutgoingRequest({ peer: a.address, content: { q: 1 } }));
      ok(await peer.messages.sendMessage({ recipients: [a.address], content: question.content }));
      const peerTemplate = ok(await peer.relationships.createOwnRelationshipTemplate());
      ok(await a.relationships.getRelationshipTemplate({ id: peerTemplate.id }));
      ok(await a.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 0 }));
      w.clock.advance({ ms: 1 });
      await w.backbone.runDueJobs();

      const nonEmpty = async () => {
        const filled: string[] = [];
        for (const collection of collections) {
          if ((await inner.list(collection)).length > 0) filled.push(collection);
        }
        return filled;
      };
      // Every collection the runtime wrote to, found by watching the storage, not listed here by hand.
      expect((await nonEmpty()).length).toBeGreaterThanOrEqual(7);

      expect(ok(await a.eraseLocalData())).toBeUndefined();
      expect(await nonEmpty()).toStrictEqual([]);
      failure(
        await a.identityMetadata.getIdentityMetadata({ reference: peer.address }),
        CODE.runtimeClosed,
        "closed",
      );
      expect(err(await a.identityDeletion.getIdentityDeletionProcesses()).code).toBe(CODE.runtimeClosed);
      expect(err(await a.eraseLocalData()).code).toBe(CODE.runtimeClosed);

      const again = await createRuntime({ backbone: w.backbone, storage });
      try {
        expect(again.address).not.toBe(a.address);
        expect(ok(await again.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([]);
        expect(ok(await again.relationships.getRelationships())).toStrictEqual([]);
        expect(ok(await again.messages.getMessages())).toStrictEqual([]);
        expect(ok(await again.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({
          isDeleted: false,
        });
      } finally {
        await again.close();
      }
    } finally {
      await storage.close();
    }
  });
});

describe("restart: the runtime catches up with the Backbone on start", () => {
  test("a process the admin started while the runtime was closed is there after reopening the storage", async () => {
    const storage = lokiStorage();
    try {
      const first = await createRuntime({ backbone: w.backbone, storage });
      const address = first.address;
      await first.close();
      const started = ok(await w.backbone.admin.startIdentityDeletionProcess(address));
      const second = await createRuntime({ backbone: w.backbone, storage });
      try {
        expect(second.address).toBe(address);
        expect(ok(await second.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(started);
        expect(ok(await second.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([started]);
        const approved = ok(await second.identityDeletion.approveIdentityDeletionProcess());
        expect(approved.id).toBe(started.id);
      } finally {
        await second.close();
      }
    } finally {
      await storage.close();
    }
  });

  test("an expiry and a deletion that happened while closed are there after reopening, without internal fields", async () => {
    const storage = lokiStorage();
    try {
      const first = await createRuntime({ backbone: w.backbone, storage });
      const address = first.address;
      await first.close();
      const started = ok(await w.backbone.admin.startIdentityDeletionProcess(address));
      w.clock.advance({ days: 8 });
      await w.backbone.runDueJobs();
      const reopened = await createRuntime({ backbone: w.backbone, storage });
      const initiated = ok(await reopened.identityDeletion.initiateIdentityDeletionProcess());
      await reopened.close();
      w.clock.advance({ days: 15 });
      await w.backbone.runDueJobs();

      const third = await createRuntime({ backbone: w.backbone, storage });
      try {
        const processes = ok(await third.identityDeletion.getIdentityDeletionProcesses());
        expect(processes).toStrictEqual([
          {
            ...started,
            status: "Cancelled",
            cancelledAt: started.approvalPeriodEndsAt,
          },
          initiated,
        ]);
        expect(ok(await third.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({
          isDeleted: true,
          deletionDate: initiated.gracePeriodEndsAt,
        });
        failure(
          await third.identityMetadata.upsertIdentityMetadata({ reference: address, value: 1 }),
          CODE.identityDeleted,
          address,
        );
      } finally {
        await third.close();
      }
    } finally {
      await storage.close();
    }
  });
});

describe("an identity can only ever delete itself", () => {
  test("no deletion call takes an address", async () => {
    const rt = await w.runtime();
    const other = await w.runtime();
    for (const call of [
      () => rt.identityDeletion.initiateIdentityDeletionProcess({ address: other.address } as never),
      () =>
        rt.identityDeletion.getIdentityDeletionProcess({
          id: "IDP" + "a".repeat(17),
          address: other.address,
        } as never),
    ]) {
      failure(await call(), CODE.invalidPropertyValue, "address");
    }
    expect(ok(await other.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([]);
    expect(ok(await rt.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([]);
  });

  test("initiating on A leaves B without a process, event or deletion, and B cannot see or cancel A's", async () => {
    const { a, b } = await w.connected();
    const bEvents = recordEvents(b, CHANGED);
    const process = ok(await a.identityDeletion.initiateIdentityDeletionProcess());
    expect(ok(await b.identityDeletion.getIdentityDeletionProcesses())).toStrictEqual([]);
    expect(ok(await w.backbone.getIdentityDeletionProcesses(b.address))).toStrictEqual([]);
    failure(
      await b.identityDeletion.getActiveIdentityDeletionProcess(),
      CODE.noActiveIdentityDeletionProcess,
      b.address,
    );
    failure(
      await b.identityDeletion.getIdentityDeletionProcess({ id: process.id }),
      CODE.recordNotFound,
      process.id,
    );
    failure(
      await b.identityDeletion.cancelIdentityDeletionProcess(),
      CODE.noApprovedIdentityDeletionProcess,
      b.address,
    );
    expect(ok(await a.identityDeletion.getActiveIdentityDeletionProcess())).toStrictEqual(process);
    w.clock.advance({ days: 15 });
    await w.backbone.runDueJobs();
    expect(ok(await b.identityDeletion.checkIfIdentityIsDeleted())).toStrictEqual({ isDeleted: false });
    ok(await b.identityMetadata.upsertIdentityMetadata({ reference: b.address, value: "alive" }));
    expect(bEvents).toHaveLength(0);
  });
});
