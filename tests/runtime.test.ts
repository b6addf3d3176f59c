import { createRuntime, LocalBackbone, lokiStorage, ManualClock } from "../src/index";
import { err, ok, world } from "./support";

describe("createRuntime", () => {
  test("with no options: its own LocalBackbone, in-memory storage and a fresh address", async () => {
    const rt = await createRuntime();
    try {
      expect(rt.address).toMatch(/^did:e:localhost:dids:[0-9a-f]{22}$/);
      ok(await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: 1 }));
    } finally {
      await rt.close();
    }
  });

  test("two runtimes on one backbone are two identities", async () => {
    const w = world();
    const a = await w.runtime();
    const b = await w.runtime();
    expect(a.address).not.toBe(b.address);
    await w.close();
  });

  test("reopening the same storage is the same identity with its data", async () => {
    const backbone = new LocalBackbone({ clock: new ManualClock() });
    const storage = lokiStorage();
    const first = await createRuntime({ backbone, storage });
    ok(await first.identityMetadata.upsertIdentityMetadata({ reference: first.address, value: "kept" }));
    await first.close();
    const second = await createRuntime({ backbone, storage });
    expect(second.address).toBe(first.address);
    expect(ok(await second.identityMetadata.getIdentityMetadata({ reference: second.address })).value).toBe(
      "kept",
    );
    await second.close();
    await storage.close();
    await backbone.close();
  });

  test("the backbone host appears in addresses", async () => {
    const backbone = new LocalBackbone({ host: "backbone.example.org" });
    const rt = await createRuntime({ backbone });
    expect(rt.address).toMatch(/^did:e:backbone\.example\.org:dids:/);
    await rt.close();
    await backbone.close();
  });

  test("invalid options are refused at construction", async () => {
    expect(() => new LocalBackbone({ host: "not a host" })).toThrow(RangeError);
    expect(() => new LocalBackbone({ gracePeriodInDays: -1 })).toThrow(RangeError);
    await expect(createRuntime({ maxIdentityMetadataValueBytes: -5 })).rejects.toThrow(RangeError);
  });
});

describe("createRuntime on one storage", () => {
  test("runtimes of one process started at once on an empty storage are distinct identities, each kept", async () => {
    const backbone = new LocalBackbone({ clock: new ManualClock() });
    const storage = lokiStorage();
    try {
      const runtimes = await Promise.all([1, 2, 3].map(() => createRuntime({ backbone, storage })));
      const addresses = runtimes.map((runtime) => runtime.address);
      expect(new Set(addresses).size).toBe(3);
      expect((await storage.list("runtime/identities")).map((record) => record.id).sort()).toEqual(
        [...addresses].sort(),
      );
      await Promise.all(runtimes.map((runtime) => runtime.close()));
      // Reopened without an address: the first identity made in the empty storage comes back first.
      const reopened = await createRuntime({ backbone, storage });
      expect(addresses).toContain(reopened.address);
      await reopened.close();
    } finally {
      await backbone.close();
      await storage.close();
    }
  });
});

describe("close", () => {
  test("later calls answer error.runtime.runtimeClosed instead of throwing", async () => {
    const rt = await createRuntime();
    await rt.close();
    const error = err(await rt.identityMetadata.getIdentityMetadata({ reference: rt.address }));
    expect(error.code).toBe("error.runtime.runtimeClosed");
    expect(err(await rt.relationships.getRelationships()).code).toBe("error.runtime.runtimeClosed");
  });

  test("waits for pending async listeners", async () => {
    const w = world();
    const { a, b, relationshipId } = await w.connected();
    let listenerDone = false;
    a.events.on("transport.relationshipChanged", async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      listenerDone = true;
    });
    ok(await b.relationships.terminateRelationship({ relationshipId }));
    expect(listenerDone).toBe(false);
    await a.close();
    expect(listenerDone).toBe(true);
    await w.close();
  });

  test("waits for calls in flight, which complete normally", async () => {
    const rt = await createRuntime();
    const inFlight = rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: 1 });
    const closing = rt.close();
    expect(ok(await inFlight).value).toBe(1);
    await closing;
  });

  test("sending to a peer whose runtime is closed does not fail the sender", async () => {
    const w = world();
    const { a, b } = await w.connected();
    await a.close();
    ok(await b.messages.sendMessage({ recipients: [a.address], content: { text: "anyone there?" } }));
    await w.close();
  });
});

describe("events", () => {
  test("a listener that throws does not break the call that published", async () => {
    const reported: string[] = [];
    const w = world();
    const a = await w.runtime({ onListenerError: (_error, name) => reported.push(name) });
    const b = await w.runtime();
    a.events.on("transport.relationshipChanged", () => {
      throw new Error("listener bug");
    });
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    const relationship = ok(await b.relationships.createRelationship({ templateId: template.id }));
    expect(ok(await a.relationships.getRelationship({ id: relationship.id })).status).toBe("Pending");
    expect(reported).toEqual(["transport.relationshipChanged"]);
    await w.close();
  });

  test("a listener may call the runtime from inside an event without deadlocking", async () => {
    const w = world();
    const { a, b } = await w.connected();
    const replies: Promise<unknown>[] = [];
    a.events.on("transport.messageReceived", (event) => {
      replies.push(a.messages.sendMessage({ recipients: [event.data.createdBy], content: { reply: true } }));
    });
    ok(await b.messages.sendMessage({ recipients: [a.address], content: { hello: true } }));
    await Promise.all(replies);
    const received = ok(await b.messages.getMessages()).filter((m) => m.createdBy === a.address);
    expect(received.map((m) => m.content)).toEqual([{ reply: true }]);
    await w.close();
  });
});
