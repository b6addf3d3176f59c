import type { Subscribers } from "../subscribers.js";
import type { PgPool, PgPoolClient } from "./driver.js";
import { NOTIFY_CHANNEL } from "./schema.js";

// Pauses before reconnecting after a lost connection: doubling from the first to the last.
const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 5_000;

/**
 * One pooled connection that LISTENs for the `notify` changes of one schema, held while anyone subscribes.
 * Once (re)connected it tells `undefined` ("anything may have changed"), since notifications sent while it was
 * away are gone: a subscriber catches up from what is stored.
 */
export class NotificationListener {
  readonly #pool: () => Promise<PgPool>;
  readonly #schema: string;
  readonly #subscribers: Subscribers;
  #client: PgPoolClient | undefined;
  /** Bumped by `stop`: a connection attempt of an older generation gives up. */
  #generation = 0;
  #running = false;
  #retryMs = FIRST_RETRY_MS;
  #retry: NodeJS.Timeout | undefined;

  constructor(parts: { pool: () => Promise<PgPool>; schema: string; subscribers: Subscribers }) {
    this.#pool = parts.pool;
    this.#schema = parts.schema;
    this.#subscribers = parts.subscribers;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#connect(this.#generation);
  }

  stop(): void {
    this.#running = false;
    this.#generation++;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    // Destroyed, not returned: a connection that LISTENs is of no use to others.
    client?.release(true);
  }

  async #connect(generation: number): Promise<void> {
    let client: PgPoolClient | undefined;
    try {
      client = await (await this.#pool()).connect();
      const lost = (): void => this.#lost(client as PgPoolClient, generation);
      client.on("error", lost);
      client.on("end", lost);
      client.on("notification", ({ channel, payload }) => {
        if (channel !== NOTIFY_CHANNEL || payload === undefined) return;
        const space = payload.indexOf(" ");
        if (payload.slice(0, space) === this.#schema) this.#subscribers.tell([payload.slice(space + 1)]);
      });
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
      if (generation !== this.#generation) {
        client.release(true);
        return;
      }
      this.#client = client;
      this.#retryMs = FIRST_RETRY_MS;
      this.#subscribers.tell([undefined]);
    } catch {
      client?.release(true);
      this.#again(generation);
    }
  }

  #lost(client: PgPoolClient, generation: number): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.release(true);
    this.#again(generation);
  }

  #again(generation: number): void {
    if (generation !== this.#generation) return;
    this.#retry = setTimeout(() => void this.#connect(generation), this.#retryMs);
    this.#retry.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, LAST_RETRY_MS);
  }
}
