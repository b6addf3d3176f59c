// GET /api/v2/Events: the event journal as Server-Sent Events, filtered by name, resumable with Last-Event-ID.
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHttpHandler } from "../../src/index";
import type { Runtime } from "../../src/index";
import { ok, worldPerTest } from "../support";

const w = worldPerTest();
const API_KEY = "stream-test-key";
const servers: { server: Server; shutdown: AbortController }[] = [];
afterEach(async () => {
  for (const { server, shutdown } of servers.splice(0)) {
    shutdown.abort();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(runtime: Runtime, heartbeatMs = 60_000): Promise<string> {
  const shutdown = new AbortController();
  const server = createServer(
    createHttpHandler(runtime, {
      apiKey: API_KEY,
      signal: shutdown.signal,
      eventStreamHeartbeatMs: heartbeatMs,
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({ server, shutdown });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** Opens the stream and reads frames as they come. */
async function open(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { "x-api-key": API_KEY, ...headers }, signal: abort.signal });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const frame: Frame = {};
          for (const line of buffer.slice(0, end).split("\n")) {
            if (line.startsWith(":")) frame.comment = line.slice(1).trim();
            else {
              const at = line.indexOf(": ");
              (frame as Record<string, string>)[line.slice(0, at)] = line.slice(at + 2);
            }
          }
          buffer = buffer.slice(end + 2);
          frames.push(frame);
          for (const waiter of [...waiters]) waiter();
        }
      }
    } catch {
      // Aborted by the test.
    }
  })();
  return {
    response,
    frames,
    events: () => frames.filter((frame) => frame.event !== undefined),
    async until(predicate: (frames: Frame[]) => boolean, timeoutMs = 5_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(frames)) {
        if (Date.now() > deadline)
          throw new Error(`stream: condition not met; frames ${JSON.stringify(frames)}`);
        await new Promise<void>((resolve) => {
          waiters.add(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    async close() {
      abort.abort();
      await reading;
    },
    ended: reading,
  };
}

async function related() {
  const a = await w.runtime({ eventJournal: true });
  const b = await w.runtime();
  const template = ok(await a.relationships.createOwnRelationshipTemplate());
  const relationship = ok(await b.relationships.createRelationship({ templateId: template.id }));
  ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
  return { a, b };
}

test("streams new events as they happen, with the seq as id and the webhook payload as data; filters by name", async () => {
  const { a, b } = await related();
  const url = await serve(a, 50);
  const all = await open(`${url}/api/v2/Events`);
  expect(all.response.status).toBe(200);
  expect(all.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const messages = await open(`${url}/api/v2/Events?names=transport.messageReceived`);
  ok(
    await a.relationships.terminateRelationship({
      relationshipId: ok(await a.relationships.getRelationships())[0]!.id,
    }),
  );
  ok(await b.messages.sendMessage({ recipients: [a.address], content: { "@type": "Notification", n: 1 } }));
  await all.until((frames) => frames.filter((frame) => frame.event !== undefined).length === 2);
  await messages.until((frames) => frames.some((frame) => frame.event !== undefined));
  // Only what happened after the stream opened: the relationship's first two events came before.
  expect(all.events().map((frame) => [frame.id, frame.event])).toStrictEqual([
    ["3", "transport.relationshipChanged"],
    ["4", "transport.messageReceived"],
  ]);
  expect(JSON.parse(all.events()[1]!.data!)).toMatchObject({
    trigger: "transport.messageReceived",
    data: { content: { "@type": "Notification", n: 1 } },
  });
  expect(messages.events().map((frame) => frame.id)).toStrictEqual(["4"]);
  // Idle streams get heartbeats.
  await all.until((frames) => frames.some((frame) => frame.comment === "keep-alive"));
  await Promise.all([all.close(), messages.close()]);
});

test("resumes after Last-Event-ID (or ?after=) with what the client missed, then goes on live", async () => {
  const { a, b } = await related();
  const url = await serve(a);
  ok(await b.messages.sendMessage({ recipients: [a.address], content: 1 }));
  const resumed = await open(`${url}/api/v2/Events`, { "last-event-id": "1" });
  await resumed.until((frames) => frames.filter((frame) => frame.event !== undefined).length === 2);
  ok(await b.messages.sendMessage({ recipients: [a.address], content: 2 }));
  await resumed.until((frames) => frames.filter((frame) => frame.event !== undefined).length === 3);
  expect(resumed.events().map((frame) => frame.id)).toStrictEqual(["2", "3", "4"]);
  const fromQuery = await open(`${url}/api/v2/Events?after=3`);
  await fromQuery.until((frames) => frames.some((frame) => frame.event !== undefined));
  expect(fromQuery.events().map((frame) => frame.id)).toStrictEqual(["4"]);
  await Promise.all([resumed.close(), fromQuery.close()]);
});

test("a resume point that has been pruned says so with an eventsMissed event, then goes on from the oldest kept", async () => {
  const a = await w.runtime({ eventJournal: { retain: 1 } });
  const b = await w.runtime();
  const template = ok(await a.relationships.createOwnRelationshipTemplate());
  ok(await b.relationships.createRelationship({ templateId: template.id }));
  const relationship = ok(await a.relationships.getRelationships())[0]!;
  ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
  const url = await serve(a);
  const stream = await open(`${url}/api/v2/Events`, { "last-event-id": "0" });
  await stream.until((frames) => frames.filter((frame) => frame.event !== undefined).length === 2);
  expect(stream.events().map((frame) => [frame.event, frame.id])).toStrictEqual([
    ["eventsMissed", undefined],
    ["transport.relationshipChanged", "2"],
  ]);
  expect(JSON.parse(stream.events()[0]!.data!)).toStrictEqual({ after: 0, resumedAfter: 1 });
  await stream.close();
});

test("needs the API key, a known event name and a seq to resume after; ends when the server shuts down", async () => {
  const { a } = await related();
  const url = await serve(a);
  expect((await fetch(`${url}/api/v2/Events`)).status).toBe(401);
  const unknown = await fetch(`${url}/api/v2/Events?names=transport.nope`, {
    headers: { "x-api-key": API_KEY },
  });
  expect(unknown.status).toBe(400);
  expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
    "error.runtime.validation.invalidPropertyValue",
  );
  const badId = await fetch(`${url}/api/v2/Events`, {
    headers: { "x-api-key": API_KEY, "last-event-id": "x" },
  });
  expect(badId.status).toBe(400);
  await badId.arrayBuffer();
  const post = await fetch(`${url}/api/v2/Events`, { method: "POST", headers: { "x-api-key": API_KEY } });
  expect(post.status).toBe(405);
  const stream = await open(`${url}/api/v2/Events`);
  servers[0]!.shutdown.abort();
  await stream.ended;
  const withoutJournal = await serve(await w.runtime());
  const refused = await fetch(`${withoutJournal}/api/v2/Events`, { headers: { "x-api-key": API_KEY } });
  expect(refused.status).toBe(501);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
    "error.http.noEventJournal",
  );
});

test("a stream asked for while the server is already shutting down ends at once", async () => {
  const { a } = await related();
  const url = await serve(a);
  servers[0]!.shutdown.abort();
  const stream = await open(`${url}/api/v2/Events`);
  await stream.ended;
  expect(stream.events()).toStrictEqual([]);
});
