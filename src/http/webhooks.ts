import { createHmac, timingSafeEqual } from "node:crypto";
import { isPlainObject } from "../core/json.js";
import { EVENT_NAMES } from "../runtime/events.js";
import type { EventName, JournaledEvent, RuntimeEventJournal } from "../runtime/events.js";
import type { Runtime } from "../runtime/runtime.js";

/**
 * Where webhooks are sent: the enmeshed Connector's target, plus an optional signing secret.
 * @example
 * const target: WebhookTarget = {
 *   url: "https://crm.example.com/enmeshed/{{trigger}}",
 *   headers: { authorization: "Bearer …" },
 *   secret: process.env.WEBHOOK_SECRET,
 * };
 */
export interface WebhookTarget {
  /** An http(s) URL; `{{trigger}}` in it is replaced by the event's name. */
  url: string;
  /** Sent with every request, such as an API key of the receiver. */
  headers?: Record<string, string>;
  /** When given, every request carries `x-signature` (see `verifyWebhookSignature`). */
  secret?: string;
}

/**
 * The webhooks configuration, in the shape of the enmeshed Connector's webhooks module: named targets, and
 * which events (`triggers`) go to which target.
 * @example
 * const config: WebhooksConfig = {
 *   targets: { crm: { url: "http://localhost:4000/events" } },
 *   webhooks: [{ triggers: ["transport.peerToBeDeleted", "transport.peerDeleted"], target: "crm" }],
 * };
 */
export interface WebhooksConfig {
  /** Targets by name, for webhooks to refer to. */
  targets?: Record<string, WebhookTarget>;
  /** Each sends the events named in its `triggers` to its target. */
  webhooks: Webhook[];
}

/**
 * One webhook of a configuration: which events go where.
 * @example
 * const webhook: Webhook = { triggers: ["transport.messageReceived"], target: { url: "http://localhost:4000/messages" } };
 */
export interface Webhook {
  /** The names of the events to send, such as `"transport.peerDeleted"`. */
  triggers: string[];
  /** A name of the configuration's `targets`, or a target itself. */
  target: string | WebhookTarget;
}

/**
 * How `startWebhooks` delivers; every option has a default.
 * @example
 * const options: WebhookOptions = { retry: { firstDelayMs: 500, maxDelayMs: 60_000 }, timeoutMs: 5_000 };
 */
export interface WebhookOptions {
  /** How long a failed delivery waits before it is tried again. */
  retry?: WebhookRetry;
  /** How long one delivery may take before it counts as failed; default 10 s. */
  timeoutMs?: number;
  /**
   * Told of every failed delivery (with its event), which is then retried, and of every failure to read the
   * journal or move a cursor (without); default: `console.error`.
   */
  onDeliveryError?: (error: unknown, target: string, event: JournaledEvent | undefined) => void;
  /** Told of every delivered event. */
  onDelivered?: (target: string, event: JournaledEvent) => void;
}

/**
 * The backoff of failed deliveries: the first retry after `firstDelayMs`, each next one after twice as long, at
 * most `maxDelayMs`.
 * @example
 * const retry: WebhookRetry = { firstDelayMs: 500, maxDelayMs: 60_000 };
 */
export interface WebhookRetry {
  /** Default 1 s. */
  firstDelayMs?: number;
  /** Default 5 minutes. */
  maxDelayMs?: number;
}

/**
 * The running webhook deliveries of one runtime.
 * @example
 * const webhooks = await startWebhooks(runtime, config);
 * process.once("SIGTERM", () => void webhooks.close());
 */
export interface Webhooks {
  /** Stops delivering, waiting for a delivery under way; what is not delivered yet is delivered after a restart. */
  close(): Promise<void>;
}

/** A target with everything it needs resolved: its cursor, its events, its URL template. */
interface ResolvedTarget {
  /** The name of its cursor in the journal. */
  consumer: string;
  /** How logs name it. */
  label: string;
  url: string;
  headers: Record<string, string>;
  secret: string | undefined;
  triggers: ReadonlySet<string>;
}

/** The cursors of webhook targets begin with this, so targets no longer configured can be found and dropped. */
const CURSOR_PREFIX = "webhook:";

/** How many journal entries one read takes. */
const PAGE = 100;

/**
 * Checks a webhooks configuration (as read from JSON): every target an http(s) URL with string headers,
 * every trigger an event name, every named target defined. Returns the problems, none when it is valid.
 * @example
 * const problems = webhooksConfigProblems(JSON.parse(readFileSync("webhooks.json", "utf8")));
 * if (problems.length > 0) throw new Error(problems.join("\n"));
 */
export function webhooksConfigProblems(config: unknown): string[] {
  if (!isPlainObject(config)) return ["the configuration must be a JSON object with `webhooks`"];
  const problems: string[] = [];
  const { targets = {}, webhooks } = config as { targets?: unknown; webhooks?: unknown };
  if (!isPlainObject(targets)) problems.push("`targets` must be an object of targets by name");
  else {
    for (const [name, target] of Object.entries(targets))
      problems.push(...targetProblems(target, `targets.${name}`));
  }
  if (!Array.isArray(webhooks)) return [...problems, "`webhooks` must be a list"];
  webhooks.forEach((webhook: unknown, index) => {
    const at = `webhooks[${index}]`;
    if (!isPlainObject(webhook)) return void problems.push(`${at} must be an object`);
    const { triggers, target } = webhook;
    if (!Array.isArray(triggers) || triggers.length === 0)
      problems.push(`${at}.triggers must be a non-empty list of event names`);
    else {
      for (const trigger of triggers as unknown[]) {
        if (!EVENT_NAMES.includes(trigger as EventName))
          problems.push(
            `${at}.triggers: ${JSON.stringify(trigger)} is not an event name (${EVENT_NAMES.join(", ")})`,
          );
      }
    }
    if (typeof target === "string") {
      if (!isPlainObject(targets) || !Object.hasOwn(targets, target))
        problems.push(`${at}.target: there is no target named ${JSON.stringify(target)}`);
    } else problems.push(...targetProblems(target, `${at}.target`));
  });
  return problems;
}

function targetProblems(target: unknown, at: string): string[] {
  if (!isPlainObject(target)) return [`${at} must be a target name or an object with \`url\``];
  const problems: string[] = [];
  const { url, headers = {}, secret } = target;
  if (
    typeof url !== "string" ||
    !/^https?:\/\//i.test(url) ||
    !URL.canParse(url.replaceAll("{{trigger}}", "x"))
  )
    problems.push(`${at}.url must be an http(s) URL`);
  if (!isPlainObject(headers) || Object.values(headers).some((value) => typeof value !== "string"))
    problems.push(`${at}.headers must be an object of strings`);
  if (secret !== undefined && (typeof secret !== "string" || secret.length === 0))
    problems.push(`${at}.secret must be a non-empty string`);
  return problems;
}

/** The targets of a valid configuration, each with the union of the triggers that send to it. */
function resolveTargets(config: WebhooksConfig): ResolvedTarget[] {
  const byConsumer = new Map<string, ResolvedTarget>();
  for (const { triggers, target } of config.webhooks) {
    const named = typeof target === "string";
    const definition = named ? (config.targets?.[target] as WebhookTarget) : target;
    // A named target keeps its cursor across edits of its URL; an inline one is known by its URL.
    const consumer = `${CURSOR_PREFIX}${named ? target : `url:${definition.url}`}`;
    const resolved = byConsumer.get(consumer) ?? {
      consumer,
      label: named ? target : withoutSecrets(definition.url),
      url: definition.url,
      headers: { ...definition.headers },
      secret: definition.secret,
      triggers: new Set<string>(),
    };
    for (const trigger of triggers) (resolved.triggers as Set<string>).add(trigger);
    byConsumer.set(consumer, resolved);
  }
  return [...byConsumer.values()];
}

/** A target's URL as logs may show it: without user name, password or query, which may hold credentials. */
function withoutSecrets(url: string): string {
  const parsed = new URL(url.replaceAll("{{trigger}}", "%7B%7Btrigger%7D%7D"));
  return `${parsed.origin}${decodeURIComponent(parsed.pathname)}`;
}

/**
 * Delivers the runtime's events to webhook targets as the enmeshed Connector's webhooks module does (a POST of
 * `{ trigger, data }`), but from the runtime's durable journal: at least once and in order per target, with
 * retries and backoff while a target fails, and, on SQLite or PostgreSQL, after a crash or restart too. A new
 * target gets the events from the opening of the runtime it first starts with (what the runtime took from the
 * Backbone on opening included); a target no longer configured stops holding events back.
 * Needs a runtime created with `eventJournal`.
 * @example
 * const runtime = await createRuntime({ backbone, storage, eventJournal: true });
 * const webhooks = await startWebhooks(runtime, {
 *   targets: { crm: { url: "http://localhost:4000/events", secret: process.env.WEBHOOK_SECRET } },
 *   webhooks: [{ triggers: ["transport.peerDeleted"], target: "crm" }],
 * });
 * // …
 * await webhooks.close();
 */
export async function startWebhooks(
  runtime: Runtime,
  config: WebhooksConfig,
  options: WebhookOptions = {},
): Promise<Webhooks> {
  const journal = runtime.journal;
  if (journal === undefined)
    throw new TypeError("startWebhooks needs a runtime created with createRuntime({ eventJournal: true })");
  const problems = webhooksConfigProblems(config);
  if (problems.length > 0) throw new TypeError(`invalid webhooks configuration:\n${problems.join("\n")}`);
  const targets = resolveTargets(config);
  const configured = new Set(targets.map((target) => target.consumer));
  for (const { consumer } of (await journal.cursors()).unwrap()) {
    if (consumer.startsWith(CURSOR_PREFIX) && !configured.has(consumer))
      (await journal.dropCursor({ consumer })).unwrap();
  }
  // A new target starts with what happened since the runtime opened, its catch-up included.
  for (const target of targets) {
    if ((await journal.cursor({ consumer: target.consumer })).unwrap() === undefined)
      (await journal.advance({ consumer: target.consumer, seq: journal.openedAt })).unwrap();
  }
  const pumps = targets.map((target) => new TargetPump(journal, target, options));
  const stopWatching = journal.watch(() => {
    for (const pump of pumps) pump.wake();
  });
  for (const pump of pumps) pump.start();
  return {
    async close() {
      stopWatching();
      await Promise.all(pumps.map((pump) => pump.stop()));
    },
  };
}

/** Delivers one target's events, one at a time and in order; sleeps until the journal grows. */
class TargetPump {
  readonly #journal: RuntimeEventJournal;
  readonly #target: ResolvedTarget;
  readonly #firstDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timeoutMs: number;
  readonly #options: WebhookOptions;
  readonly #stopping = new AbortController();
  /** Set when the journal grew while the pump was busy, so the wake-up is not lost. */
  #dirty = true;
  #wakeUp: (() => void) | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(journal: RuntimeEventJournal, target: ResolvedTarget, options: WebhookOptions) {
    this.#journal = journal;
    this.#target = target;
    this.#options = options;
    this.#firstDelayMs = options.retry?.firstDelayMs ?? 1_000;
    this.#maxDelayMs = options.retry?.maxDelayMs ?? 300_000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  start(): void {
    this.#running = this.#run();
  }

  wake(): void {
    this.#dirty = true;
    this.#wakeUp?.();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#wakeUp?.();
    await this.#running;
  }

  get #stopped(): boolean {
    return this.#stopping.signal.aborted;
  }

  async #run(): Promise<void> {
    let delay = this.#firstDelayMs;
    while (!this.#stopped) {
      try {
        if (!this.#dirty) await this.#sleep();
        this.#dirty = false;
        while (!this.#stopped && (await this.#deliverPage())) {
          // Pages follow one another until the journal has nothing after the cursor.
        }
        delay = this.#firstDelayMs;
      } catch (error) {
        // The storage failed (reading the journal or moving the cursor): the same events are tried again.
        this.#report(error);
        this.#dirty = true;
        await this.#sleep(delay);
        delay = Math.min(delay * 2, this.#maxDelayMs);
      }
    }
  }

  /**
   * Delivers the next page after the cursor, and moves the cursor over it; whether it got on (false: caught
   * up, or stopped). A cursor that is gone was dropped by a server configured without this target: it stops,
   * rather than deliver the whole journal again.
   */
  async #deliverPage(): Promise<boolean> {
    const { consumer, triggers } = this.#target;
    const after = (await this.#journal.cursor({ consumer })).unwrap();
    if (after === undefined) {
      this.#report(
        new Error(`the cursor ${consumer} was dropped (by a server configured without this target)`),
      );
      this.#stopping.abort();
      return false;
    }
    const { events, through } = (await this.#journal.read({ after, limit: PAGE })).unwrap();
    let moved = after;
    for (const event of events) {
      if (!triggers.has(event.name)) continue;
      if (!(await this.#deliverUntilDone(event))) return false;
      moved = event.seq;
      (await this.#journal.advance({ consumer, seq: moved })).unwrap();
    }
    // Events the target does not want, and seqs without an event, are passed in one move per page.
    if (through > moved) (await this.#journal.advance({ consumer, seq: through })).unwrap();
    return through > after;
  }

  /** Posts the event until the target takes it (or the pump stops: false). */
  async #deliverUntilDone(event: JournaledEvent): Promise<boolean> {
    let delay = this.#firstDelayMs;
    while (!this.#stopped) {
      try {
        await this.#post(event);
        this.#options.onDelivered?.(this.#target.label, event);
        return true;
      } catch (error) {
        this.#report(error, event);
        await this.#sleep(delay);
        delay = Math.min(delay * 2, this.#maxDelayMs);
      }
    }
    return false;
  }

  async #post(event: JournaledEvent): Promise<void> {
    const body = JSON.stringify({ trigger: event.name, data: event.data });
    const headers: Record<string, string> = {
      ...this.#target.headers,
      "content-type": "application/json",
      "x-event-seq": String(event.seq),
    };
    if (this.#target.secret !== undefined) {
      headers["x-signature"] = signWebhook(this.#target.secret, {
        seq: String(event.seq),
        body,
        unixSeconds: Math.floor(Date.now() / 1_000),
      });
    }
    const response = await fetch(this.#target.url.replaceAll("{{trigger}}", event.name), {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      // Not cut short by close(): a delivery the target took must also move the cursor, or it comes twice.
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    // The body is not needed; reading it lets the connection be reused.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status > 299)
      throw new Error(`${this.#target.label} answered ${response.status}`);
  }

  /** Resolves after `ms` (without `ms`: when woken), or when the pump stops. */
  #sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#stopping.signal;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.#wakeUp = undefined;
        resolve();
      };
      // A retry's sleep is not cut short by new events: the target is still failing.
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      if (ms === undefined) this.#wakeUp = done;
      signal.addEventListener("abort", done);
      if (signal.aborted) done();
    });
  }

  #report(error: unknown, event?: JournaledEvent): void {
    if (this.#stopped) return;
    try {
      if (this.#options.onDeliveryError !== undefined)
        this.#options.onDeliveryError(error, this.#target.label, event);
      else console.error(`identity-runtime: webhook ${this.#target.label} failed`, error);
    } catch {
      // A failing reporter must not stop the deliveries.
    }
  }
}

/**
 * The `x-signature` header of a request: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<seq>.<body>">`. The
 * seq is signed too, so a replayed request cannot pass for another event.
 */
function signWebhook(secret: string, signed: { seq: string; body: string; unixSeconds: number }): string {
  return `t=${signed.unixSeconds},v1=${mac(secret, signed)}`;
}

function mac(
  secret: string,
  { seq, body, unixSeconds }: { seq: string; body: string; unixSeconds: number },
): string {
  return createHmac("sha256", secret).update(`${unixSeconds}.${seq}.${body}`).digest("hex");
}

/**
 * What `verifyWebhookSignature` checks: a request's signature, seq and raw body against the shared secret.
 * @example
 * const check: WebhookSignatureCheck = {
 *   secret,
 *   header: request.headers["x-signature"],
 *   seq: request.headers["x-event-seq"],
 *   body: rawBody,
 * };
 * if (!verifyWebhookSignature(check)) response.writeHead(401).end();
 */
export interface WebhookSignatureCheck {
  /** The target's `secret`. */
  secret: string;
  /** The request's `x-signature` header, as Node gives it. */
  header: string | string[] | undefined;
  /** The request's `x-event-seq` header, as Node gives it: signed with the body. */
  seq: string | string[] | undefined;
  /** The request's body exactly as received, before any parsing. */
  body: string;
  /** How far the signed time may be from now, in seconds; default 300. */
  toleranceSeconds?: number;
  /** Now, in Unix seconds; default the system clock. */
  nowSeconds?: number;
}

/**
 * Whether a webhook request was signed with `secret` (its `x-signature` header over its `x-event-seq` and raw
 * body) within `toleranceSeconds` (default 300) of now: what a receiver checks before trusting a request, and
 * before dropping a repeat by its seq. An empty secret, or a tolerance that is not a number ≥ 0, never verifies.
 * @example
 * const ok = verifyWebhookSignature({
 *   secret: process.env.WEBHOOK_SECRET!,
 *   header: request.headers["x-signature"],
 *   seq: request.headers["x-event-seq"],
 *   body: rawBody,
 * });
 * if (!ok) return response.writeHead(401).end();
 */
export function verifyWebhookSignature(check: WebhookSignatureCheck): boolean {
  const { secret, header, seq, body } = check;
  const tolerance = check.toleranceSeconds ?? 300;
  if (typeof secret !== "string" || secret === "" || typeof body !== "string") return false;
  if (typeof header !== "string" || typeof seq !== "string" || !(tolerance >= 0)) return false;
  const parts = new Map(
    header.split(",").map((part) => {
      const at = part.indexOf("=");
      return [at === -1 ? part : part.slice(0, at), at === -1 ? "" : part.slice(at + 1)] as const;
    }),
  );
  const t = parts.get("t") ?? "";
  const signature = parts.get("v1") ?? "";
  if (!/^\d{1,12}$/.test(t) || !/^[0-9a-f]{64}$/.test(signature)) return false;
  const now = check.nowSeconds ?? Math.floor(Date.now() / 1_000);
  if (!(Math.abs(now - Number(t)) <= tolerance)) return false;
  const expected = mac(secret, { seq, body, unixSeconds: Number(t) });
  return timingSafeEqual(Buffer.from(expected, "hex"), Buffer.from(signature, "hex"));
}
