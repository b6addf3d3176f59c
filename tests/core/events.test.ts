import { EventBus } from "../../src/core/events";

interface Payloads {
  ping: { n: number };
  pong: string;
}

function bus() {
  const errors: [unknown, string][] = [];
  const events = new EventBus<Payloads>("did:e:localhost:dids:0123456789abcdef012345", (error, name) =>
    errors.push([error, name]),
  );
  return { events, errors };
}

describe("EventBus", () => {
  test("listeners get the name, the target address and the data, in subscription order", () => {
    const { events } = bus();
    const seen: string[] = [];
    events.on(
      "ping",
      (event) => void seen.push(`first ${event.name} ${event.data.n} ${event.eventTargetAddress}`),
    );
    events.on("ping", () => void seen.push("second"));
    events.on("pong", () => void seen.push("pong"));
    events.publish("ping", { n: 1 });
    expect(seen).toEqual(["first ping 1 did:e:localhost:dids:0123456789abcdef012345", "second"]);
  });

  test("the function on() returns unsubscribes exactly that subscription", () => {
    const { events } = bus();
    const seen: number[] = [];
    const listener = (event: { data: { n: number } }) => void seen.push(event.data.n);
    const off = events.on("ping", listener);
    events.on("ping", listener);
    off();
    off();
    events.publish("ping", { n: 7 });
    expect(seen).toEqual([7]);
  });

  test("a throwing listener is reported and neither the publisher nor later listeners notice", () => {
    const { events, errors } = bus();
    const seen: number[] = [];
    const failure = new Error("listener broke");
    events.on("ping", () => {
      throw failure;
    });
    events.on("ping", (event) => void seen.push(event.data.n));
    expect(() => events.publish("ping", { n: 2 })).not.toThrow();
    expect(seen).toEqual([2]);
    expect(errors).toEqual([[failure, "ping"]]);
  });

  test("a rejecting listener is reported, never an unhandled rejection, and idle() waits for it", async () => {
    const { events, errors } = bus();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      let finished = false;
      events.on("pong", async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        finished = true;
        throw new Error("async failure");
      });
      events.publish("pong", "x");
      expect(finished).toBe(false);
      await events.idle();
      expect(finished).toBe(true);
      expect(errors.map(([error]) => (error as Error).message)).toEqual(["async failure"]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test("an error handler that throws itself does not reach the publisher", () => {
    const events = new EventBus<Payloads>("did:e:localhost:dids:0123456789abcdef012345", () => {
      throw new Error("handler broke");
    });
    events.on("ping", () => {
      throw new Error("listener broke");
    });
    expect(() => events.publish("ping", { n: 1 })).not.toThrow();
  });

  test("a listener that subscribes another during publish does not run it for the current event", () => {
    const { events } = bus();
    const seen: string[] = [];
    events.on("ping", () => {
      seen.push("outer");
      events.on("ping", () => void seen.push("inner"));
    });
    events.publish("ping", { n: 1 });
    expect(seen).toEqual(["outer"]);
  });
});
