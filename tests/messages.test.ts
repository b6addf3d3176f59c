import type { MessageDTO, RelationshipStatus, Runtime, RuntimeEvent } from "../src/index";
import { CODE, err, ok, recordEvents, START, UNKNOWN_ADDRESS, worldPerTest } from "./support";

const MESSAGE_ID = /^MSG[A-Za-z0-9]{17}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MAIL = { "@type": "Mail", subject: "Hi", body: "Hello there" };
const NOTIFICATION = {
  "@type": "Notification",
  items: [{ "@type": "PeerSharedAttributeSucceededNotificationItem" }],
};

const w = worldPerTest();

/** The standing of a recipient from the sender's side: no relationship at all, or one in that status. */
type Standing = "none" | RelationshipStatus;

/**
 * A new runtime whose relationship to `sender` (created from the sender's template) is in `standing` as the
 * sender sees it. DeletionProposed: the peer decomposed a Terminated relationship.
 */
async function peerOf(sender: Runtime, standing: Standing): Promise<Runtime> {
  const peer = await w.runtime();
  if (standing === "none") return peer;
  const template = ok(await sender.relationships.createOwnRelationshipTemplate());
  const { id: relationshipId } = ok(await peer.relationships.createRelationship({ templateId: template.id }));
  if (standing === "Rejected") ok(await sender.relationships.rejectRelationship({ relationshipId }));
  if (standing === "Revoked") ok(await peer.relationships.revokeRelationship({ relationshipId }));
  if (standing === "Active" || standing === "Terminated" || standing === "DeletionProposed") {
    ok(await sender.relationships.acceptRelationship({ relationshipId }));
  }
  if (standing === "Terminated" || standing === "DeletionProposed") {
    ok(await sender.relationships.terminateRelationship({ relationshipId }));
  }
  if (standing === "DeletionProposed") ok(await peer.relationships.decomposeRelationship({ relationshipId }));
  const seen = ok(await sender.relationships.getRelationship({ id: relationshipId }));
  expect(seen.status).toBe(standing);
  return peer;
}

function received(runtime: Runtime): RuntimeEvent<"transport.messageReceived">[] {
  return recordEvents(runtime, "transport.messageReceived");
}

async function messagesOf(runtime: Runtime): Promise<MessageDTO[]> {
  return ok(await runtime.messages.getMessages());
}

describe("sendMessage to a peer with an Active relationship", () => {
  test("returns a MessageDTO with an MSG id, the sender, the recipients, the content and an ISO createdAt", async () => {
    const { a, b } = await w.connected();
    w.clock.advance({ seconds: 3 });

    const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content: MAIL }));

    expect(sent.id).toMatch(MESSAGE_ID);
    expect(sent.createdAt).toMatch(ISO);
    expect(sent).toEqual({
      id: sent.id,
      createdBy: a.address,
      recipients: [b.address],
      content: MAIL,
      createdAt: new Date(START.getTime() + 3000).toISOString(),
    });
  });

  test("reaches the recipient: in its getMessages and as transport.messageReceived before sendMessage resolves", async () => {
    const { a, b } = await w.connected();
    const bReceived = received(b);

    const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content: MAIL }));

    expect(bReceived).toEqual([
      { name: "transport.messageReceived", eventTargetAddress: b.address, data: sent },
    ]);
    expect(await messagesOf(b)).toEqual([sent]);
  });

  test("the sender keeps its own copy, without a messageReceived event of its own", async () => {
    const { a, b } = await w.connected();
    const aReceived = received(a);

    const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content: MAIL }));

    expect(await messagesOf(a)).toEqual([sent]);
    expect(aReceived).toEqual([]);
  });

  test("works in both directions: the template creator's peer can send back", async () => {
    const { a, b } = await w.connected();

    const sent = ok(await b.messages.sendMessage({ recipients: [a.address], content: { reply: true } }));

    expect(sent.createdBy).toBe(b.address);
    expect(await messagesOf(a)).toEqual([sent]);
  });

  test("content round-trips exactly, including @type, null, arrays and nested objects", async () => {
    const { a, b } = await w.connected();
    const content = {
      "@type": "Custom",
      nothing: null,
      list: [1, "two", { three: [3] }],
      flag: false,
      n: -0.5,
    };

    ok(await a.messages.sendMessage({ recipients: [b.address], content }));

    const [message] = await messagesOf(b);
    expect(message?.content).toEqual(content);
  });

  test.each([
    ["a string", "plain text"],
    ["a number", 42],
    ["null", null],
    ["an array", [1, 2]],
  ])("content may be any JSON value, e.g. %s", async (_name, content) => {
    const { a, b } = await w.connected();

    const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content }));

    expect(sent.content).toEqual(content);
    expect((await messagesOf(b)).map((m) => m.content)).toEqual([content]);
  });

  test("the recipient's copy is not shared with the sender's request object", async () => {
    const { a, b } = await w.connected();
    const content = { counter: 1 };

    ok(await a.messages.sendMessage({ recipients: [b.address], content }));
    content.counter = 2;

    expect((await messagesOf(b)).map((m) => m.content)).toEqual([{ counter: 1 }]);
    expect((await messagesOf(a)).map((m) => m.content)).toEqual([{ counter: 1 }]);
  });

  test("getMessages lists sent and received messages oldest first", async () => {
    const { a, b } = await w.connected();

    const first = ok(await a.messages.sendMessage({ recipients: [b.address], content: "1" }));
    w.clock.advance({ ms: 1 });
    const second = ok(await b.messages.sendMessage({ recipients: [a.address], content: "2" }));
    w.clock.advance({ ms: 1 });
    const third = ok(await a.messages.sendMessage({ recipients: [b.address], content: "3" }));

    expect(await messagesOf(a)).toEqual([first, second, third]);
    expect(await messagesOf(b)).toEqual([first, second, third]);
  });

  test("a recipient with an old Rejected and a new Active relationship can be messaged", async () => {
    const a = await w.runtime();
    const b = await peerOf(a, "Rejected");
    const template = ok(await a.relationships.createOwnRelationshipTemplate());
    const { id } = ok(await b.relationships.createRelationship({ templateId: template.id }));
    ok(await a.relationships.acceptRelationship({ relationshipId: id }));

    const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content: MAIL }));

    expect(await messagesOf(b)).toEqual([sent]);
  });
});

describe("sendMessage to multiple recipients", () => {
  test("every recipient receives the same message, in getMessages and as an event", async () => {
    const a = await w.runtime();
    const b = await peerOf(a, "Active");
    const c = await peerOf(a, "Active");
    const d = await peerOf(a, "Active");
    const [bReceived, cReceived, dReceived] = [received(b), received(c), received(d)];
    const recipients = [c.address, b.address, d.address];

    const sent = ok(await a.messages.sendMessage({ recipients, content: MAIL }));

    expect(sent.recipients).toEqual(recipients);
    for (const [runtime, events] of [
      [b, bReceived],
      [c, cReceived],
      [d, dReceived],
    ] as const) {
      expect(await messagesOf(runtime)).toEqual([sent]);
      expect(events).toEqual([
        { name: "transport.messageReceived", eventTargetAddress: runtime.address, data: sent },
      ]);
    }
    expect(await messagesOf(a)).toEqual([sent]);
  });

  test("a peer that is not a recipient receives nothing", async () => {
    const a = await w.runtime();
    const b = await peerOf(a, "Active");
    const c = await peerOf(a, "Active");
    const cReceived = received(c);

    ok(await a.messages.sendMessage({ recipients: [b.address], content: MAIL }));

    expect(await messagesOf(c)).toEqual([]);
    expect(cReceived).toEqual([]);
  });
});

describe("sendMessage rules (behaviour §7, rules 3 and 4; rules 1-2 need peer deletion, not yet reachable)", () => {
  /** Sends and checks the failure changed nothing: no message stored or delivered anywhere, no event. */
  async function sendFailing(sender: Runtime, recipients: Runtime[], content: unknown, addresses?: string[]) {
    const events = [sender, ...recipients].map(received);
    const result = await sender.messages.sendMessage({
      recipients: addresses ?? recipients.map((r) => r.address),
      content: content,
    });
    const error = err(result);
    for (const runtime of [sender, ...recipients]) expect(await messagesOf(runtime)).toEqual([]);
    for (const seen of events) expect(seen).toEqual([]);
    return error;
  }

  describe("rule 3: a non-Notification needs an Active relationship to every recipient", () => {
    test.each<Standing>(["none", "Pending", "Rejected", "Revoked", "Terminated", "DeletionProposed"])(
      "to a recipient with %s is error.runtime.messages.hasNoActiveRelationship naming the address",
      async (standing) => {
        const a = await w.runtime();
        const b = await peerOf(a, standing);

        const error = await sendFailing(a, [b], MAIL);

        expect(error.code).toBe(CODE.messagesHasNoActiveRelationship);
        expect(error.message).toContain(b.address);
      },
    );

    test("to an address unknown to the Backbone is hasNoActiveRelationship naming it", async () => {
      const a = await w.runtime();

      const error = await sendFailing(a, [], MAIL, [UNKNOWN_ADDRESS]);

      expect(error.code).toBe(CODE.messagesHasNoActiveRelationship);
      expect(error.message).toContain(UNKNOWN_ADDRESS);
    });

    test("to the own address is hasNoActiveRelationship", async () => {
      const a = await w.runtime();

      const error = await sendFailing(a, [], MAIL, [a.address]);

      expect(error.code).toBe(CODE.messagesHasNoActiveRelationship);
      expect(error.message).toContain(a.address);
    });

    test.each([
      ["a string", "just text"],
      ["an array", [{ "@type": "Notification" }]],
      ["an object with a different @type", { "@type": "notification" }],
      ["an object with @type nested", { content: { "@type": "Notification" } }],
    ])("content that is %s is not a Notification", async (_name, content) => {
      const a = await w.runtime();
      const b = await peerOf(a, "Terminated");

      const error = await sendFailing(a, [b], content);

      expect(error.code).toBe(CODE.messagesHasNoActiveRelationship);
    });
  });

  describe("rule 4: a Notification needs an Active or Terminated relationship to every recipient", () => {
    test.each<Standing>(["none", "Pending", "Rejected", "Revoked", "DeletionProposed"])(
      "to a recipient with %s is hasNeitherActiveNorTerminatedRelationship naming the address",
      async (standing) => {
        const a = await w.runtime();
        const b = await peerOf(a, standing);

        const error = await sendFailing(a, [b], NOTIFICATION);

        expect(error.code).toBe(CODE.messagesHasNeitherActiveNorTerminatedRelationship);
        expect(error.message).toContain(b.address);
      },
    );

    test.each<Standing>(["Terminated", "Active"])(
      "to a recipient with %s succeeds and is delivered",
      async (standing) => {
        const a = await w.runtime();
        const b = await peerOf(a, standing);
        const bReceived = received(b);

        const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content: NOTIFICATION }));

        expect(sent.content).toEqual(NOTIFICATION);
        expect(await messagesOf(b)).toEqual([sent]);
        expect(await messagesOf(a)).toEqual([sent]);
        expect(bReceived.map((e) => e.data)).toEqual([sent]);
      },
    );

    test("a Notification to a Terminated and an Active recipient together succeeds", async () => {
      const a = await w.runtime();
      const b = await peerOf(a, "Terminated");
      const c = await peerOf(a, "Active");

      const sent = ok(
        await a.messages.sendMessage({ recipients: [b.address, c.address], content: NOTIFICATION }),
      );

      expect(await messagesOf(b)).toEqual([sent]);
      expect(await messagesOf(c)).toEqual([sent]);
    });
  });

  describe("the error lists every offending address and nothing is delivered to anyone", () => {
    test("non-Notification, two bad recipients out of three: both named, the good one not, no delivery", async () => {
      const a = await w.runtime();
      const good = await peerOf(a, "Active");
      const pending = await peerOf(a, "Pending");
      const stranger = await peerOf(a, "none");

      const error = await sendFailing(a, [pending, good, stranger], MAIL);

      expect(error.code).toBe(CODE.messagesHasNoActiveRelationship);
      expect(error.message).toContain(pending.address);
      expect(error.message).toContain(stranger.address);
      expect(error.message).not.toContain(good.address);
    });

    test("non-Notification: a Terminated recipient breaks rule 3 alongside one without relationship", async () => {
      const a = await w.runtime();
      const terminated = await peerOf(a, "Terminated");
      const stranger = await peerOf(a, "none");
      const good = await peerOf(a, "Active");

      const error = await sendFailing(a, [good, terminated, stranger], MAIL);

      expect(error.code).toBe(CODE.messagesHasNoActiveRelationship);
      expect(error.message).toContain(terminated.address);
      expect(error.message).toContain(stranger.address);
      expect(error.message).not.toContain(good.address);
    });

    test("Notification, two bad recipients out of three: both named, the Terminated one not, no delivery", async () => {
      const a = await w.runtime();
      const terminated = await peerOf(a, "Terminated");
      const pending = await peerOf(a, "Pending");
      const stranger = await peerOf(a, "none");

      const error = await sendFailing(a, [terminated, pending, stranger], NOTIFICATION);

      expect(error.code).toBe(CODE.messagesHasNeitherActiveNorTerminatedRelationship);
      expect(error.message).toContain(pending.address);
      expect(error.message).toContain(stranger.address);
      expect(error.message).not.toContain(terminated.address);
    });
  });
});

describe("sendMessage validation", () => {
  /**
   * Sends the request built for an Active pair a→b and checks it is a validation error naming `property`
   * that changed nothing: no message stored or delivered, no event.
   */
  async function invalid(build: (b: Runtime) => unknown, property: string) {
    const { a, b } = await w.connected();
    const [aReceived, bReceived] = [received(a), received(b)];

    const error = err(await a.messages.sendMessage(build(b) as never));

    expect(error.code).toBe(CODE.invalidPropertyValue);
    expect(error.message).toContain(property);
    expect(await messagesOf(a)).toEqual([]);
    expect(await messagesOf(b)).toEqual([]);
    expect(aReceived).toEqual([]);
    expect(bReceived).toEqual([]);
    return error;
  }

  test("recipients empty", async () => {
    await invalid(() => ({ recipients: [], content: MAIL }), "recipients");
  });

  test("recipients whose reading throws (a getter, a revoked Proxy, a throwing length) name recipients", async () => {
    const withGetter = (b: Runtime) => {
      const recipients = [b.address];
      Object.defineProperty(recipients, 0, {
        get() {
          throw new Error("boom");
        },
      });
      return { recipients, content: MAIL };
    };
    const revoked = () => {
      const { proxy, revoke } = Proxy.revocable([] as string[], {});
      revoke();
      return { recipients: proxy, content: MAIL };
    };
    const throwingLength = (b: Runtime) => ({
      recipients: new Proxy([b.address], {
        get: (target, key) => {
          if (key === "length") throw new Error("no length");
          return Reflect.get(target, key) as unknown;
        },
      }),
      content: MAIL,
    });
    for (const build of [withGetter, revoked, throwingLength]) {
      expect((await invalid(build, "recipients")).message).toContain("could not be read");
    }
  });

  test.each([
    ["a string", (b: Runtime) => b.address],
    ["an object", (b: Runtime) => ({ 0: b.address })],
    ["null", () => null],
  ])("recipients not an array (%s)", async (_name, recipients) => {
    await invalid((b) => ({ recipients: recipients(b), content: MAIL }), "recipients");
  });

  test("recipients missing", async () => {
    await invalid(() => ({ content: MAIL }), "recipients");
  });

  test.each([
    ["not an address", "bob"],
    ["upper-case hex", "did:e:localhost:dids:0123456789ABCDEF012345"],
    ["an address with trailing text", `${UNKNOWN_ADDRESS}x`],
    ["an address with leading text", `x${UNKNOWN_ADDRESS}`],
    ["a number", 1],
  ])("recipients containing a malformed address (%s), named by its index", async (_name, bad) => {
    await invalid((b) => ({ recipients: [b.address, bad], content: MAIL }), "recipients[1]");
  });

  test("recipients containing a duplicate, naming the duplicated address", async () => {
    let address = "";
    const error = await invalid((b) => {
      address = b.address;
      return { recipients: [b.address, b.address], content: MAIL };
    }, "recipients");

    expect(error.message).toContain(address);
  });

  test("a duplicate is a validation error even when the duplicated recipient has no relationship", async () => {
    const error = await invalid(
      () => ({ recipients: [UNKNOWN_ADDRESS, UNKNOWN_ADDRESS], content: MAIL }),
      "recipients",
    );

    expect(error.message).toContain(UNKNOWN_ADDRESS);
  });

  test.each([
    ["a function", () => "hi", "content"],
    ["a Date", new Date("2030-01-01T00:00:00.000Z"), "content"],
    ["NaN", Number.NaN, "content"],
    ["Infinity", Number.POSITIVE_INFINITY, "content"],
    ["a Map", new Map([["a", 1]]), "content"],
    ["a BigInt", BigInt(1), "content"],
    ["an object containing a Date", { when: new Date() }, "content.when"],
    ["an object containing undefined", { missing: undefined }, "content.missing"],
    ["an array containing NaN", [1, Number.NaN], "content[1]"],
  ])("content not JSON (%s) names the property", async (_name, content, property) => {
    await invalid((b) => ({ recipients: [b.address], content }), property);
  });

  test("content with a cycle", async () => {
    const content: Record<string, unknown> = { a: 1 };
    content.self = content;

    await invalid((b) => ({ recipients: [b.address], content }), "content");
  });

  test("content missing", async () => {
    await invalid((b) => ({ recipients: [b.address] }), "content");
  });

  test("an unknown property", async () => {
    await invalid((b) => ({ recipients: [b.address], content: MAIL, subject: "x" }), "subject");
  });

  test("a request that is not an object", async () => {
    await invalid(() => undefined, "request");
  });
});

describe("getMessages", () => {
  test("returns [] when nothing was sent or received", async () => {
    const a = await w.runtime();

    expect(await messagesOf(a)).toEqual([]);
  });
});

describe("getMessage", () => {
  test("returns a sent message to its sender and the same message to its recipient", async () => {
    const { a, b } = await w.connected();
    const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content: MAIL }));

    expect(ok(await a.messages.getMessage({ id: sent.id }))).toEqual(sent);
    expect(ok(await b.messages.getMessage({ id: sent.id }))).toEqual(sent);
  });

  test("a message of others, or one forgotten by decomposing, is recordNotFound naming the id", async () => {
    const { a, b, relationshipId } = await w.connected();
    const c = await peerOf(a, "Active");
    const toC = ok(await a.messages.sendMessage({ recipients: [c.address], content: "to c" }));
    const toB = ok(await a.messages.sendMessage({ recipients: [b.address], content: "to b" }));

    const notHers = err(await b.messages.getMessage({ id: toC.id }));
    expect(notHers.code).toBe(CODE.recordNotFound);
    expect(notHers.message).toContain(toC.id);

    ok(await a.relationships.terminateRelationship({ relationshipId }));
    ok(await b.relationships.decomposeRelationship({ relationshipId }));
    expect(err(await b.messages.getMessage({ id: toB.id })).code).toBe(CODE.recordNotFound);
  });

  test.each([
    ["an id of another kind", { id: "RELaaaaaaaaaaaaaaaaa" }],
    ["a short id", { id: "MSGabc" }],
    ["no id", {}],
    ["an unknown property", { id: "MSGaaaaaaaaaaaaaaaaa", extra: 1 }],
  ])("%s is a validation error", async (_case, request) => {
    const a = await w.runtime();

    const error = err(await a.messages.getMessage(request as { id: string }));
    expect(error.code).toBe(CODE.invalidPropertyValue);
  });
});

describe("decomposeRelationship removes the messages exchanged with that peer (behaviour §7 Decomposing)", () => {
  test("messages sent to and received from the peer disappear from the decomposer's getMessages", async () => {
    const { a, b, relationshipId } = await w.connected();
    const c = await peerOf(b, "Active");
    ok(await a.messages.sendMessage({ recipients: [b.address], content: "to b" }));
    ok(await b.messages.sendMessage({ recipients: [a.address], content: "to a" }));
    const withC = ok(await b.messages.sendMessage({ recipients: [c.address], content: "to c" }));
    ok(await a.relationships.terminateRelationship({ relationshipId }));

    ok(await b.relationships.decomposeRelationship({ relationshipId }));

    expect(await messagesOf(b)).toEqual([withC]);
  });

  test("the peer, who has not decomposed, keeps its messages", async () => {
    const { a, b, relationshipId } = await w.connected();
    const sent = ok(await a.messages.sendMessage({ recipients: [b.address], content: "to b" }));
    ok(await a.relationships.terminateRelationship({ relationshipId }));

    ok(await b.relationships.decomposeRelationship({ relationshipId }));

    expect(await messagesOf(a)).toEqual([sent]);
  });

  test("an own multi-recipient message only loses that recipient", async () => {
    const { a, b, relationshipId } = await w.connected();
    const c = await peerOf(b, "Active");
    const sent = ok(await b.messages.sendMessage({ recipients: [a.address, c.address], content: "to both" }));
    ok(await a.relationships.terminateRelationship({ relationshipId }));

    ok(await b.relationships.decomposeRelationship({ relationshipId }));

    expect(await messagesOf(b)).toEqual([{ ...sent, recipients: [c.address] }]);
  });
});
