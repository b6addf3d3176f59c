import { createServer } from "node:http";
import type { Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { createHttpHandler } from "../../src/index";
import type { HttpErrorBody, HttpHandlerOptions, Runtime } from "../../src/index";

export const API_KEY = "test-key";

/** What a request answered: status, headers, the raw text and the text parsed as JSON (undefined if empty). */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

export interface CallOptions {
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as is (with whatever `headers` say); for broken JSON, other media types and streams. */
  raw?: string | Uint8Array | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
  /** The X-API-KEY to send; default the right one, `null` for none. */
  key?: string | null;
}

export interface Served {
  url: string;
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

/** Serves `runtime` with `createHttpHandler` on 127.0.0.1 and a free port; `close()` ends every connection. */
export async function serve(runtime: Runtime, options: Partial<HttpHandlerOptions> = {}): Promise<Served> {
  const server: Server = createServer(createHttpHandler(runtime, { apiKey: API_KEY, ...options }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    call: (method, path, callOptions) => call(url, method, path, callOptions),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.key !== null) headers["x-api-key"] = options.key ?? API_KEY;
  let body: string | Uint8Array | ReadableStream<Uint8Array> | undefined = options.raw;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  const init: RequestInit & { duplex?: "half" } = {
    method,
    headers: { ...headers, ...options.headers },
    ...(body === undefined ? {} : { body }),
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  };
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** The `result` of a success envelope after checking its status and that `result` is all there is. */
export function resultOf<T>(answer: Answer, status = 200): T {
  expect({ status: answer.status, body: answer.body }).toEqual({
    status,
    body: { result: expect.anything() as unknown },
  });
  expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
  return (answer.body as { result: T }).result;
}

/**
 * Checks an error answer: the status, `{ error: { id, code, message, docs, time } }` and nothing else, `id` of
 * ERR and 17 characters, `docs` a URL naming the code, `time` an ISO date. Returns the error.
 */
export function expectError(answer: Answer, status: number, code: string): HttpErrorBody["error"] {
  expect({
    status: answer.status,
    code: (answer.body as Partial<HttpErrorBody> | undefined)?.error?.code,
  }).toEqual({ status, code });
  expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
  const body = answer.body as HttpErrorBody;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "docs", "id", "message", "time"]);
  expect(body.error.id).toMatch(/^ERR[A-Za-z0-9]{17}$/);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(() => new URL(body.error.docs)).not.toThrow();
  expect(body.error.docs).toContain(code);
  expect(new Date(body.error.time).toISOString()).toBe(body.error.time);
  return body.error;
}

/** A query string from pairs, encoding each part; `key: ""` stays `key=`. */
export function query(...pairs: [string, string][]): string {
  return `?${pairs.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&")}`;
}

/**
 * Sends `head` (request line and headers, without the blank line) as it is over a socket: for request targets
 * that no HTTP client would send. Resolves with the status and body of the answer, or `status: 0` when the
 * server closed the connection without one.
 */
export async function rawRequest(base: string, head: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  socket.setEncoding("utf8");
  let received = "";
  socket.on("data", (chunk: string) => (received += chunk));
  socket.write(`${head}\r\nconnection: close\r\n\r\n`);
  await new Promise<void>((resolve) => {
    socket.once("close", () => resolve());
    socket.once("error", () => resolve());
  });
  const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
  return {
    status: status === undefined ? 0 : Number(status),
    text: received.split("\r\n\r\n").slice(1).join(""),
  };
}

/** Request targets that once made `new URL(…)` throw outside the handler's guard, killing the process. */
export const ODD_TARGETS = [
  "//[",
  "//a:99999/",
  "//%zz/",
  "//a%00b/",
  "//[::1",
  "http://[/",
  "//x:-1/",
  "//@@@:1a/",
] as const;
