// A webhook receiver for tests: records every request, and answers 503 while it is told to be down.
import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  payload: { trigger: string; data: unknown };
}

export interface Receiver {
  url: string;
  received: ReceivedWebhook[];
  /** Requests answered 503 while down. */
  refused: number;
  down: boolean;
  /** Resolves once `count` webhooks have been taken (2xx); rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/** A receiver on a free port of 127.0.0.1, or on `port` (to come back where a killed one was). */
export async function startReceiver(port = 0): Promise<Receiver> {
  const waiters = new Set<() => void>();
  const receiver: Receiver = {
    url: "",
    received: [],
    refused: 0,
    down: false,
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (receiver.received.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(receiver.received.slice(0, count));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${receiver.received.length} of ${count} webhooks within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (receiver.down) {
        receiver.refused++;
        response.writeHead(503).end();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      receiver.received.push({
        path: request.url ?? "",
        headers: request.headers,
        body,
        payload: JSON.parse(body) as ReceivedWebhook["payload"],
      });
      response.writeHead(204).end();
      for (const waiter of [...waiters]) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  server.closeIdleConnections();
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = receiver.close;
  receiver.close = () => {
    server.closeAllConnections();
    return close();
  };
  return receiver;
}
