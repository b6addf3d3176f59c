// Webhooks from the durable event journal: shape, order, retries while a target is down, restarts.
import { startWebhooks, verifyWebhookSignature, webhooksConfigProblems } from "../../src/index";
import type { Runtime, StorageAdapter, Webhooks, WebhooksConfig } from "../../src/index";
import { ok, testStorage, worldPerTest } from "../support";
import { startReceiver } from "./receiver";
import type { Receiver } from "./receiver";

const w = worldPerTest();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const FAST_RETRY = { retry: { firstDelayMs: 20, maxDelayMs: 100 } };

async function receiver(): Promise<Receiver> {
  const started = await startReceiver();
  cleanups.push(() => started.close());
  return started;
}

async function webhooks(runtime: Runtime, config: WebhooksConfig): Promise<Webhooks> {
  const running = await startWebhooks(runtime, config, {
    ...FAST_RETRY,
    onDeliveryError: () => undefined,
  });
  cleanups.push(() => running.close());
  return running;
}

/** `a` (journaling, on `storage`) and `b` with an Active relationship; `b` then sends `count` messages to `a`. */
async function relatedWithMessages(storage: StorageAdapter | undefined, count: number) {
  const a = await w.runtime({ eventJournal: true, ...(storage === undefined ? {} : { storage }) });
  const b = await w.runtime();
  return {
    a,
    b,
    async relateAndSend() {
      const template = ok(await a.relationships.createOwnRelationshipTemplate());
      const relationship = ok(await b.relationships.createRelationship({ templateId: template.id }));
      ok(await a.relationships.acceptRelationship({ relationshipId: relationship.id }));
      for (let n = 0; n < count; n++)
        ok(await b.messages.sendMessage({ recipients: [a.address], content: { n } }));
    },
  };
}

test("each configured trigger reaches its target as { trigger, data }, in order, signed, with the URL's {{trigger}} filled in", async () => {
  const target = await receiver();
  const { a, relateAndSend } = await relatedWithMessages(undefined, 3);
  await webhooks(a, {
    targets: {
      crm: { url: `${target.url}/hooks/{{trigger}}`, headers: { "x-api-key": "k" }, secret: "s3cret" },
    },
    webhooks: [
      { triggers: ["transport.messageReceived"], target: "crm" },
      { triggers: ["transport.relationshipChanged"], target: "crm" },
    ],
  });
  await relateAndSend();
  const got = await target.waitFor(5);
  expect(got.map((hook) => hook.payload.trigger)).toStrictEqual([
    "transport.relationshipChanged",
    "transport.relationshipChanged",
    "transport.messageReceived",
    "transport.messageReceived",
    "transport.messageReceived",
  ]);
  expect(got.map((hook) => (hook.payload.data as { content?: unknown }).content).slice(2)).toStrictEqual([
    { n: 0 },
    { n: 1 },
    { n: 2 },
  ]);
  expect(got.map((hook) => (hook.payload.data as { status?: unknown }).status).slice(0, 2)).toStrictEqual([
    "Pending",
    "Active",
  ]);
  expect(got[0]?.path).toBe("/hooks/transport.relationshipChanged");
  expect(got[0]?.headers["x-api-key"]).toBe("k");
  expect(got.map((hook) => Number(hook.headers["x-event-seq"]))).toStrictEqual([1, 2, 3, 4, 5]);
  for (const hook of got) {
    expect(
      verifyWebhookSignature({ secret: "s3cret", header: hook.headers["x-signature"], body: hook.body }),
    ).toBe(true);
  }
  // A changed body, another secret or a stale timestamp does not verify.
  const [first] = got;
  expect(
    verifyWebhookSignature({
      secret: "s3cret",
      header: first?.headers["x-signature"],
      body: `${first?.body} `,
    }),
  ).toBe(false);
  expect(
    verifyWebhookSignature({ secret: "other", header: first?.headers["x-signature"], body: first!.body }),
  ).toBe(false);
  expect(
    verifyWebhookSignature({
      secret: "s3cret",
      header: first?.headers["x-signature"],
      body: first!.body,
      nowSeconds: Math.floor(Date.now() / 1_000) + 3_600,
    }),
  ).toBe(false);
});

test("a target that is down for a while gets every event once it is up, in order, none lost", async () => {
  const target = await receiver();
  target.down = true;
  const { a, relateAndSend } = await relatedWithMessages(undefined, 20);
  await webhooks(a, { webhooks: [{ triggers: ["transport.messageReceived"], target: { url: target.url } }] });
  await relateAndSend();
  // Refused for a while: retried with backoff, nothing skipped.
  while (target.refused < 3) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(target.received).toStrictEqual([]);
  target.down = false;
  const got = await target.waitFor(20);
  expect(got.map((hook) => (hook.payload.data as { content: { n: number } }).content.n)).toStrictEqual(
    Array.from({ length: 20 }, (_, n) => n),
  );
});

test("events raised while the webhooks were stopped are delivered when they start again, from the cursor kept in the storage", async () => {
  const target = await receiver();
  const { storage, dispose } = testStorage();
  cleanups.push(dispose);
  const { a, b, relateAndSend } = await relatedWithMessages(storage, 1);
  const config: WebhooksConfig = {
    webhooks: [{ triggers: ["transport.messageReceived"], target: { url: target.url } }],
  };
  const first = await webhooks(a, config);
  await relateAndSend();
  await target.waitFor(1);
  await first.close();
  ok(await b.messages.sendMessage({ recipients: [a.address], content: { n: 1 } }));
  ok(await b.messages.sendMessage({ recipients: [a.address], content: { n: 2 } }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(target.received).toHaveLength(1);
  await webhooks(a, config);
  const got = await target.waitFor(3);
  expect(got.map((hook) => (hook.payload.data as { content: { n: number } }).content.n)).toStrictEqual([
    0, 1, 2,
  ]);
  // Nothing twice: the cursor had passed the first one.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(target.received).toHaveLength(3);
});

test("a target no longer configured stops holding events back", async () => {
  const { a, relateAndSend } = await relatedWithMessages(undefined, 0);
  const gone = await webhooks(a, {
    targets: { old: { url: "http://127.0.0.1:9/" } },
    webhooks: [{ triggers: ["transport.messageReceived"], target: "old" }],
  });
  await gone.close();
  expect(ok(await a.journal!.cursors()).map((cursor) => cursor.consumer)).toStrictEqual(["webhook:old"]);
  await webhooks(a, {
    targets: { crm: { url: "http://127.0.0.1:9/" } },
    webhooks: [{ triggers: ["transport.peerDeleted"], target: "crm" }],
  });
  expect(ok(await a.journal!.cursors()).map((cursor) => cursor.consumer)).toStrictEqual(["webhook:crm"]);
  await relateAndSend();
});

test("a configuration with unknown triggers, missing targets or bad URLs is refused with every problem named", async () => {
  expect(
    webhooksConfigProblems({
      webhooks: [{ triggers: ["transport.messageReceived"], target: { url: "http://x" } }],
    }),
  ).toStrictEqual([]);
  const problems = webhooksConfigProblems({
    targets: { a: { url: "ftp://x" }, b: { url: "http://x", headers: { n: 1 } } },
    webhooks: [
      { triggers: ["transport.nope"], target: "missing" },
      { triggers: [], target: "a" },
    ],
  });
  expect(problems).toHaveLength(5);
  expect(problems.join("\n")).toMatch(/targets\.a\.url/);
  expect(problems.join("\n")).toMatch(/targets\.b\.headers/);
  expect(problems.join("\n")).toMatch(/"transport\.nope" is not an event name/);
  expect(problems.join("\n")).toMatch(/no target named "missing"/);
  expect(problems.join("\n")).toMatch(/webhooks\[1\]\.triggers/);
  expect(webhooksConfigProblems([])).toHaveLength(1);
  const runtime = await w.runtime();
  await expect(startWebhooks(runtime, { webhooks: [] })).rejects.toThrow(/eventJournal/);
});
