// The durable event journal (`createRuntime({ eventJournal })`) and named identities (`createRuntime({ name })`).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRuntime, LocalBackbone, lokiStorage, sqliteStorage } from "../src/index";
import type { EventName, JournaledEvent, Runtime, StorageAdapter } from "../src/index";
import { CODE, delegating, err, ok, sleep, testStorage, world, worldPerTest } from "./support";

const w = worldPerTest();

/** The storage of the runtimes made with one the test keeps, to look into it. */
const storageOf = new WeakMap<Runtime, StorageAdapter>();
const disposals: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(disposals.splice(0).map((dispose) => dispose()));
});

/** Every event of the journal, oldest first. */
async function journalOf(runtime: Runtime): Promise<JournaledEvent[]> {
  return ok(await runtime.journal!.read({ after: 0, limit: 1_000 })).events;
}

/** Two journaling runtimes with an Active relationship (`b` created it from `a`'s template). */
async function related(retain?: number) {
  const eventJournal = retain === undefined ? true : { retain };
  const { storage, dispose } = testStorage();
  disposals.push(dispose);
  const a = await w.runtime({ eventJournal, storage });
  storageOf.set(a, storage);
  const b = await w.runtime({ eventJournal });
  const template = ok(await a.relationships.createOwnRelationshipTemplate());
  const relationship = ok(await b.relationships.createRelationship({ templateId: template.id }));
  ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
  return { a, b, relationshipId: relationship.id };
}

describe("the event journal", () => {
  test("keeps every event the listeners hear, in the same order and with the same data, numbered from 1", async () => {
    const a = await w.runtime({ eventJournal: true });
    const heard: { name: EventName; data: unknown }[] = [];
    const names: EventName[] = [
      "transport.relationshipChanged",
      "transport.messageReceived",
      "consumption.incomingRequestReceived",
      "consumption.outgoingRequestStatusChanged",
    ];
    for (const name of names) a.events.on(name, (event) => void heard.push({ name, data: event.data }));
    const b = await w.runtime({ eventJournal: true });
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    const relationship = ok(await b.relationships.createRelationship({ templateId: template.id }));
    ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
    const request = ok(await a.requests.createOutgoingRequest({ peer: b.address, content: { q: 1 } }));
    ok(await a.messages.sendMessage({ recipients: [b.address], content: request.content }));
    ok(await b.requests.acceptIncomingRequest({ requestId: request.id }));

    const journal = await journalOf(a);
    expect(journal.map(({ name, data }) => ({ name, data }))).toStrictEqual(heard);
    expect(journal.map((event) => event.seq)).toStrictEqual(heard.map((_, index) => index + 1));
    expect(heard.length).toBeGreaterThanOrEqual(5);
    expect(journal.every((event) => event.createdAt === w.clock.now().toISOString())).toBe(true);
    expect(ok(await a.journal!.head())).toStrictEqual({ seq: heard.length, prunedThrough: 0 });
    // Reading after a seq gives what follows it, a page at a time.
    expect(ok(await a.journal!.read({ after: 2, limit: 2 }))).toStrictEqual({
      events: journal.slice(2, 4),
      through: 4,
    });
  });

  test("is absent unless asked for", async () => {
    const a = await w.runtime();
    expect(a.journal).toBeUndefined();
  });

  test("a change whose commit fails keeps neither the change nor its event, and tells no listener", async () => {
    const failing = { commits: false };
    const { storage, dispose } = testStorage();
    const flaky: StorageAdapter = delegating(storage, (target) => ({
      commit: (changes) =>
        failing.commits ? Promise.reject(new Error("disk full")) : target.commit(changes),
    }));
    try {
      const a = await w.runtime({ eventJournal: true, storage: flaky });
      const b = await w.runtime({ eventJournal: true });
      const heard: string[] = [];
      a.events.on("transport.relationshipChanged", (event) => void heard.push(event.data.status));
      const template = ok(await a.relationships.createOwnRelationshipTemplate());
      failing.commits = true;
      // The Backbone keeps the relationship; `a` fails to take the push, which waits in its outbox.
      const relationship = ok(await b.relationships.createRelationship({ templateId: template.id }));
      expect(heard).toStrictEqual([]);
      expect(await journalOf(a)).toStrictEqual([]);
      expect(err(await a.relationships.getRelationship({ id: relationship.id })).code).toBe(
        CODE.recordNotFound,
      );
      failing.commits = false;
      ok(await a.sync());
      expect(heard).toStrictEqual(["Pending"]);
      expect((await journalOf(a)).map((event) => [event.seq, event.name])).toStrictEqual([
        [1, "transport.relationshipChanged"],
      ]);
    } finally {
      await dispose();
    }
  });

  test("keeps the newest `retain` events, and older ones until every cursor has passed them", async () => {
    const { a, b } = await related(2);
    ok(await a.journal!.advance({ consumer: "crm", seq: 2 }));
    for (let n = 0; n < 4; n++) ok(await b.messages.sendMessage({ recipients: [a.address], content: { n } }));
    // Events 1 and 2 are the relationship's; 3 to 6 the messages. The cursor at 2 keeps 3 and after.
    expect((await journalOf(a)).map((event) => event.seq)).toStrictEqual([3, 4, 5, 6]);
    ok(await a.journal!.advance({ consumer: "crm", seq: 6 }));
    ok(await a.journal!.advance({ consumer: "crm", seq: 1 }));
    expect(ok(await a.journal!.cursor({ consumer: "crm" }))).toBe(6);
    ok(await b.messages.sendMessage({ recipients: [a.address], content: { n: 4 } }));
    expect((await journalOf(a)).map((event) => event.seq)).toStrictEqual([6, 7]);
    expect(ok(await a.journal!.head())).toStrictEqual({ seq: 7, prunedThrough: 5 });
    ok(await a.journal!.dropCursor({ consumer: "crm" }));
    expect(ok(await a.journal!.cursor({ consumer: "crm" }))).toBeUndefined();
  });

  test("decomposing a relationship forgets the peer's events with the rest; erasing the identity erases the journal", async () => {
    const { a, b, relationshipId } = await related();
    ok(await b.messages.sendMessage({ recipients: [a.address], content: { secret: "peer data" } }));
    ok(await a.relationships.terminateRelationship({ relationshipId }));
    ok(await a.relationships.decomposeRelationship({ relationshipId }));
    const left = await journalOf(a);
    expect(JSON.stringify(left)).not.toContain(b.address);
    expect(left.map((event) => event.name)).toStrictEqual(["transport.relationshipDecomposedBySelf"]);

    ok(await a.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 0 }));
    w.clock.advance({ ms: 1 });
    await w.backbone.runDueJobs();
    const storage = storageOf.get(a);
    expect((await storage!.list(`${a.address}/events`)).length).toBeGreaterThan(0);
    ok(await a.eraseLocalData());
    for (const collection of ["events", "eventJournal", "eventCursors"]) {
      expect(await storage!.list(`${a.address}/${collection}`)).toStrictEqual([]);
    }
  });

  test("watchers hear of appended events, and refusals are Results", async () => {
    const { a, b } = await related();
    let woken = 0;
    const stop = a.journal!.watch(() => void woken++);
    ok(await b.messages.sendMessage({ recipients: [a.address], content: "hello" }));
    await new Promise((resolve) => setImmediate(resolve));
    stop();
    expect(woken).toBeGreaterThan(0);
    expect(err(await a.journal!.read({ after: -1 })).code).toBe(CODE.invalidPropertyValue);
    expect(err(await a.journal!.advance({ consumer: "crm", seq: 1.5 })).code).toBe(CODE.invalidPropertyValue);
  });

  test("createRuntime refuses a retention that is not a whole number ≥ 1", async () => {
    await expect(createRuntime({ backbone: w.backbone, eventJournal: { retain: 0 } })).rejects.toThrow(
      RangeError,
    );
  });
});

describe("named identities", () => {
  test("runtimes of different names on one storage are different identities, and a name reopens its own", async () => {
    const { storage, dispose } = testStorage();
    const backbone = new LocalBackbone({ storage });
    try {
      const org = await createRuntime({ backbone, storage, name: "org" });
      const ada = await createRuntime({ backbone, storage, name: "ada" });
      expect(org.address).not.toBe(ada.address);
      const orgAddress = org.address;
      await org.close();
      // An unnamed runtime never takes over a named identity.
      const unnamed = await createRuntime({ backbone, storage });
      expect([orgAddress, ada.address]).not.toContain(unnamed.address);
      const again = await createRuntime({ backbone, storage, name: "org" });
      expect(again.address).toBe(orgAddress);
      await expect(createRuntime({ backbone, storage, name: "ada" })).rejects.toThrow(/open already/);
      await expect(createRuntime({ backbone, storage, name: "new", address: orgAddress })).rejects.toThrow(
        RangeError,
      );
      await expect(createRuntime({ backbone, storage, name: " padded" })).rejects.toThrow(RangeError);
      await Promise.all([again.close(), ada.close(), unnamed.close()]);
    } finally {
      await backbone.close();
      await dispose();
    }
  });

  test("several runtimes started at once with one name on an empty storage become one identity", async () => {
    const separate = world();
    const { storage, dispose } = testStorage();
    try {
      // Each has a storage adapter of its own over the same database where the kind allows it; on LokiJS
      // they share the adapter, and one of them must then refuse (the identity is open in this process).
      const started = await Promise.allSettled(
        [1, 2, 3].map(() => createRuntime({ backbone: separate.backbone, storage, name: "org" })),
      );
      const addresses = started.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
      expect(new Set(addresses.map((runtime) => runtime.address)).size).toBe(1);
      await Promise.all(addresses.map((runtime) => runtime.close()));
    } finally {
      await separate.close();
      await dispose();
    }
  });
});

describe("the event journal, regressions from its review", () => {
  test("a run of forgotten events longer than a page does not stop a reader: it reads on to the events after it", async () => {
    const { a, b, relationshipId } = await related();
    const c = await w.runtime();
    for (let n = 0; n < 120; n++)
      ok(await b.messages.sendMessage({ recipients: [a.address], content: { n } }));
    ok(await a.relationships.terminateRelationship({ relationshipId }));
    ok(await a.relationships.decomposeRelationship({ relationshipId }));
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    ok(await c.relationships.createRelationship({ templateId: template.id }));
    const head = ok(await a.journal!.head()).seq;
    const page = ok(await a.journal!.read({ after: 0, limit: 100 }));
    expect(page.events.map((event) => event.name)).toStrictEqual([
      "transport.relationshipDecomposedBySelf",
      "transport.relationshipChanged",
    ]);
    expect(page.through).toBe(head);
  });

  test("a deletion process changed while the runtime was closed is journaled when it opens again", async () => {
    const storage = lokiStorage();
    const backbone = new LocalBackbone({ storage });
    try {
      const org = await createRuntime({ backbone, storage, name: "org", eventJournal: true });
      await org.close();
      ok(await backbone.admin.startIdentityDeletionProcess(org.address));
      const again = await createRuntime({ backbone, storage, name: "org", eventJournal: true });
      expect(
        (await journalOf(again)).map((event) => [event.name, (event.data as { status: string }).status]),
      ).toStrictEqual([["transport.identityDeletionProcessStatusChanged", "WaitingForApproval"]]);
      await again.close();
    } finally {
      await backbone.close();
      await storage.close();
    }
  });

  test("two processes serving one identity journal an incoming request once, however their reads interleave", async () => {
    const directory = mkdtempSync(join(tmpdir(), "identity-runtime-journal-"));
    const file = join(directory, "db.sqlite");
    const [one, two, three] = [1, 2, 3].map(() => sqliteStorage({ filename: file })) as [
      StorageAdapter,
      StorageAdapter,
      StorageAdapter,
    ];
    // One process reads requests slowly (a database under load), so both check before either writes.
    const slow = delegating(one, (target) => ({
      get: async (collection, id) => {
        const found = await target.get(collection, id);
        if (collection.endsWith("/requests")) await sleep(300);
        return found;
      },
    }));
    const backbones = [one, two, three].map((storage) => new LocalBackbone({ storage }));
    const org1 = await createRuntime({
      backbone: backbones[0]!,
      storage: slow,
      name: "org",
      eventJournal: true,
    });
    const org2 = await createRuntime({
      backbone: backbones[1]!,
      storage: two,
      name: "org",
      eventJournal: true,
    });
    const ada = await createRuntime({ backbone: backbones[2]!, storage: three, name: "ada" });
    try {
      expect(org2.address).toBe(org1.address);
      const template = ok(await org1.relationships.createOwnRelationshipTemplate());
      const relationship = ok(await ada.relationships.createRelationship({ templateId: template.id }));
      ok(await org1.sync());
      ok(await org1.relationships.acceptRelationship({ relationshipId: relationship.id }));
      ok(await ada.sync());
      const request = ok(await ada.requests.createOutgoingRequest({ peer: org1.address, content: { q: 1 } }));
      ok(await ada.messages.sendMessage({ recipients: [org1.address], content: request.content }));
      await Promise.all([org1.sync(), org2.sync()]);
      await sleep(700);
      const names = (await journalOf(org1)).map((event) => event.name);
      expect(names.filter((name) => name === "consumption.incomingRequestReceived")).toHaveLength(1);
      expect(names.filter((name) => name === "transport.messageReceived")).toHaveLength(1);
    } finally {
      await Promise.all([org1.close(), org2.close(), ada.close()]);
      await Promise.all(backbones.map((backbone) => backbone.close()));
      await Promise.all([one.close(), two.close(), three.close()]);
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
