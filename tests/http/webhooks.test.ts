// Webhooks from the durable event journal: shape, order, retries while a target is down, restarts.
import {
  createRuntime,
  startWebhooks,
  verifyWebhookSignature,
  webhooksConfigProblems,
} from "../../src/index";
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
  const signed = (hook: (typeof got)[number]) => ({
    secret: "s3cret",
    header: hook.headers["x-signature"],
    seq: hook.headers["x-event-seq"],
    body: hook.body,
  });
  for (const hook of got) expect(verifyWebhookSignature(signed(hook))).toBe(true);
  // A changed body, another seq (a replay passed off as another event), another or an empty secret, a stale
  // timestamp or a tolerance that is no number does not verify.
  const first = signed(got[0]!);
  expect(verifyWebhookSignature({ ...first, body: `${first.body} ` })).toBe(false);
  expect(verifyWebhookSignature({ ...first, seq: "99" })).toBe(false);
  expect(verifyWebhookSignature({ ...first, secret: "other" })).toBe(false);
  expect(verifyWebhookSignature({ ...first, secret: "" })).toBe(false);
  expect(verifyWebhookSignature({ ...first, nowSeconds: Math.floor(Date.now() / 1_000) + 3_600 })).toBe(
    false,
  );
  expect(verifyWebhookSignature({ ...first, toleranceSeconds: Number.NaN })).toBe(false);
  expect(verifyWebhookSignature({ ...first, header: "t=1,v1" })).toBe(false);
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

test("a target whose cursor sits before a long run of forgotten events gets the events after it", async () => {
  const target = await receiver();
  const { a, b } = await relatedWithMessages(undefined, 0);
  const c = await w.runtime();
  const config: WebhooksConfig = {
    webhooks: [
      {
        triggers: ["transport.relationshipChanged", "transport.messageReceived"],
        target: { url: target.url },
      },
    ],
  };
  // The webhooks ran once (the cursor is at 0), then were down while b's events came and went.
  await (await webhooks(a, config)).close();
  const template = ok(await a.relationships.createOwnRelationshipTemplate());
  const withB = ok(await b.relationships.createRelationship({ templateId: template.id }));
  ok(await a.relationships.acceptRelationship({ relationshipId: withB.id }));
  for (let n = 0; n < 120; n++) ok(await b.messages.sendMessage({ recipients: [a.address], content: { n } }));
  ok(await a.relationships.terminateRelationship({ relationshipId: withB.id }));
  ok(await a.relationships.decomposeRelationship({ relationshipId: withB.id }));
  await webhooks(a, config);
  const cTemplate = ok(await a.relationships.createOwnRelationshipTemplate());
  const withC = ok(await c.relationships.createRelationship({ templateId: cTemplate.id }));
  ok(await a.relationships.acceptRelationship({ relationshipId: withC.id }));
  const got = await target.waitFor(2);
  expect(got.map((hook) => (hook.payload.data as { peer: string }).peer)).toStrictEqual([
    c.address,
    c.address,
  ]);
});

test("a pump whose cursor another server dropped stops, instead of delivering the journal again", async () => {
  const crm = await receiver();
  const { a, b, relateAndSend } = await relatedWithMessages(undefined, 2);
  const errors: string[] = [];
  const one = await startWebhooks(
    a,
    {
      targets: { crm: { url: crm.url } },
      webhooks: [{ triggers: ["transport.messageReceived"], target: "crm" }],
    },
    { ...FAST_RETRY, onDeliveryError: (error) => void errors.push(String(error)) },
  );
  cleanups.push(() => one.close());
  await relateAndSend();
  await crm.waitFor(2);
  while (ok(await a.journal!.cursor({ consumer: "webhook:crm" })) !== 4)
    await new Promise((r) => setTimeout(r, 10));
  // A second server of the identity starts with a configuration without `crm` (a rolling deploy).
  await webhooks(a, {
    targets: { other: { url: crm.url } },
    webhooks: [{ triggers: ["transport.peerDeleted"], target: "other" }],
  });
  ok(await b.messages.sendMessage({ recipients: [a.address], content: { n: 2 } }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(crm.received.map((hook) => hook.headers["x-event-seq"])).toStrictEqual(["3", "4"]);
  expect(errors.join("\n")).toMatch(/cursor webhook:crm was dropped/);
});

test("a new target gets what the runtime took from the Backbone on opening: a message that came while it was closed", async () => {
  const target = await receiver();
  const { storage, dispose } = testStorage();
  cleanups.push(dispose);
  const { a, b, relateAndSend } = await relatedWithMessages(storage, 0);
  await relateAndSend();
  const address = a.address;
  await a.close();
  // While `a` is closed, the message waits for it on the Backbone.
  ok(await b.messages.sendMessage({ recipients: [address], content: { while: "closed" } }));
  const reopened = await createRuntime({ backbone: w.backbone, storage, address, eventJournal: true });
  cleanups.push(() => reopened.close());
  await webhooks(reopened, {
    webhooks: [{ triggers: ["transport.messageReceived"], target: { url: target.url } }],
  });
  const [delivered] = await target.waitFor(1);
  expect((delivered?.payload.data as { content: unknown }).content).toStrictEqual({ while: "closed" });
});
