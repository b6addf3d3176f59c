import type { IncomingMessage, ServerResponse } from "node:http";
import { RuntimeError, runtimeError } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { EVENT_NAMES } from "../runtime/events.js";
import type { EventName, RuntimeEventJournal } from "../runtime/events.js";
import { HttpFailure } from "./errors.js";

/** What one event stream sends: events after `after` whose name is in `names` (all when undefined). */
export interface EventStreamRequest {
  after: number | undefined;
  names: ReadonlySet<string> | undefined;
}

/** How many journal entries one read of a stream takes. */
const PAGE = 100;

/**
 * What `GET /Events` asks for: the names in `names` (comma-separated), and where to resume: the
 * `Last-Event-ID` header an EventSource sends when it reconnects, else the `after` parameter, else from now.
 */
export function eventStreamRequest(
  request: IncomingMessage,
  query: Record<string, string>,
): EventStreamRequest {
  for (const name of Object.keys(query)) {
    if (name !== "names" && name !== "after")
      throw invalid(`${name} is not a parameter of /Events (names, after)`);
  }
  const names = query["names"] === undefined ? undefined : new Set(query["names"].split(","));
  for (const name of names ?? []) {
    if (!EVENT_NAMES.includes(name as EventName))
      throw invalid(`names: ${JSON.stringify(name)} is not an event name (${EVENT_NAMES.join(", ")})`);
  }
  const lastEventId = request.headers["last-event-id"];
  const resumeAt = typeof lastEventId === "string" && lastEventId !== "" ? lastEventId : query["after"];
  if (resumeAt !== undefined && !/^\d{1,15}$/.test(resumeAt))
    throw invalid(
      `the event id to resume after must be a seq (a whole number), not ${JSON.stringify(resumeAt)}`,
    );
  return { after: resumeAt === undefined ? undefined : Number(resumeAt), names };
}

/**
 * Streams the journal as Server-Sent Events: `id` is the seq, `event` the name, `data` the webhook payload
 * `{ trigger, data }`. A comment every `heartbeatMs` keeps proxies from closing an idle stream. When events
 * the client resumes after have been pruned, an `eventsMissed` event says from where it goes on. Ends when
 * the client goes away or `signal` aborts; waits for the client to keep up before reading more.
 */
export async function streamEvents(
  response: ServerResponse,
  journal: RuntimeEventJournal,
  stream: EventStreamRequest,
  options: { signal: AbortSignal; heartbeatMs: number },
): Promise<void> {
  // Listening before the first await: a client that leaves (or a shutdown that starts) meanwhile is seen.
  const ended = new AbortController();
  const end = (): void => ended.abort();
  response.once("close", end);
  options.signal.addEventListener("abort", end);
  if (options.signal.aborted || response.destroyed) end();
  let wake: (() => void) | undefined;
  let dirty = true;
  ended.signal.addEventListener("abort", () => wake?.());
  const stopWatching = journal.watch(() => {
    dirty = true;
    wake?.();
  });
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    const head = valueOf(await journal.head());
    let after = stream.after ?? head.seq;
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    });
    response.write("retry: 2000\n\n");
    heartbeat = setInterval(() => response.write(": keep-alive\n\n"), options.heartbeatMs);
    while (!ended.signal.aborted) {
      if (!dirty) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      dirty = false;
      for (;;) {
        const { seq, prunedThrough } = valueOf(await journal.head());
        // Pruned before the client got them (it resumed late, or read too slowly): it is told.
        if (after < prunedThrough) {
          response.write(frame(undefined, "eventsMissed", { after, resumedAfter: prunedThrough }));
          after = prunedThrough;
        }
        if (after >= seq || ended.signal.aborted) break;
        const page = valueOf(await journal.read({ after, limit: PAGE }));
        for (const event of page.events) {
          if (stream.names !== undefined && !stream.names.has(event.name)) continue;
          const flowing = response.write(
            frame(event.seq, event.name, { trigger: event.name, data: event.data }),
          );
          if (!flowing) await drained(response, ended.signal);
        }
        after = page.through;
      }
    }
  } catch (error) {
    // A runtime closed under the stream ends it, like a shutdown; the client resumes elsewhere.
    const cause = error instanceof Error ? error.cause : undefined;
    if (!(cause instanceof RuntimeError && cause.code === "error.runtime.runtimeClosed")) throw error;
  } finally {
    clearInterval(heartbeat);
    stopWatching();
    options.signal.removeEventListener("abort", end);
    if (response.headersSent) response.end();
  }
}

/** The value of a journal call; its failure thrown, with the RuntimeError as the cause. */
function valueOf<T>(result: RuntimeResult<T>): T {
  if (result.err) throw new Error(`the event journal failed: ${result.val.message}`, { cause: result.val });
  return result.val;
}

function frame(id: number | undefined, event: string, data: unknown): string {
  // JSON.stringify never writes a raw line break, so `data` is one line.
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function drained(response: ServerResponse, ended: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off("drain", done);
      ended.removeEventListener("abort", done);
      resolve();
    };
    response.once("drain", done);
    ended.addEventListener("abort", done);
  });
}

function invalid(detail: string): HttpFailure {
  const error = runtimeError("error.runtime.validation.invalidPropertyValue", detail);
  return new HttpFailure(error.code, error.message);
}
