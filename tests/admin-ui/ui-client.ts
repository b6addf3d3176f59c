// A client of the Admin UI as a browser without JavaScript would be: it keeps cookies, follows no redirect by
// itself (tests look at each), and sends forms as application/x-www-form-urlencoded from the UI's own origin.
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdminUiHandler } from "../../src/index";
import type { AdminUiBackbone, AdminUiOptions } from "../../src/index";

export const ADMIN_KEY = "admin-ui-test-key";

export interface Page {
  status: number;
  headers: Headers;
  text: string;
}

export interface UiClient {
  url: string;
  cookies: Map<string, string>;
  get(path: string): Promise<Page>;
  /** POSTs `fields` as a form, with the page's origin; `headers` add to or replace the defaults. */
  post(path: string, fields: [string, string][], headers?: Record<string, string>): Promise<Page>;
  /** Signs in as `operator` through the sign-in form, as a person would. */
  signIn(operator?: string): Promise<Page>;
  /** The CSRF token of the last page with a form. */
  csrf(): string;
}

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
});

/** Serves the Admin UI of `backbone` on 127.0.0.1 and a free port, closed after the test. */
export async function serveUi(backbone: AdminUiBackbone, options: Partial<AdminUiOptions> = {}) {
  const server = createServer(createAdminUiHandler(backbone, { adminKey: ADMIN_KEY, ...options }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function uiClient(url: string): UiClient {
  const cookies = new Map<string, string>();
  let lastCsrf = "";
  const receive = async (response: Response): Promise<Page> => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (/Max-Age=0/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    const text = await response.text();
    const token = /name="csrf" value="([^"]*)"/.exec(text)?.[1];
    if (token !== undefined) lastCsrf = token;
    return { status: response.status, headers: response.headers, text };
  };
  const cookieHeader = (): Record<string, string> =>
    cookies.size === 0 ? {} : { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join("; ") };
  const client: UiClient = {
    url,
    cookies,
    get: async (path) =>
      receive(await fetch(`${url}${path}`, { redirect: "manual", headers: cookieHeader() })),
    post: async (path, fields, headers = {}) =>
      receive(
        await fetch(`${url}${path}`, {
          method: "POST",
          redirect: "manual",
          headers: {
            ...cookieHeader(),
            "content-type": "application/x-www-form-urlencoded",
            origin: url,
            "sec-fetch-site": "same-origin",
            ...headers,
          },
          body: new URLSearchParams(fields).toString(),
        }),
      ),
    signIn: async (operator = "Jane Doe") => {
      await client.get("/admin-ui/sign-in");
      return client.post("/admin-ui/sign-in", [
        ["csrf", lastCsrf],
        ["operator", operator],
        ["key", ADMIN_KEY],
      ]);
    },
    csrf: () => lastCsrf,
  };
  return client;
}
