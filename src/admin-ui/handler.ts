import type { IncomingMessage, ServerResponse } from "node:http";
import type { BackboneAdmin } from "../backbone/admin.js";
import type { Clock } from "../core/clock.js";
import type { RuntimeResult } from "../core/errors.js";
import { adminKeyProblem } from "../http/admin.js";
import { HttpFailure, statusOfCode } from "../http/errors.js";
import { readBodyText } from "../http/request.js";
import { guarded, pathBelow, publicError, routeFor, secretCheck } from "../http/serving.js";
import type { RequestLogEntry } from "../http/serving.js";
import type { SafeHtml } from "./html.js";
import {
  auditPage,
  BASE,
  identitiesPage,
  identitiesPath,
  identityPage,
  identityPath,
  problemPage,
  signInPage,
  signInPath,
  startPage,
} from "./pages.js";
import type { Viewer } from "./pages.js";
import { randomToken, Sessions } from "./sessions.js";
import type { Session } from "./sessions.js";
import { STYLESHEET_TEXT } from "./style.js";

/**
 * What the Admin UI needs of a Backbone: its Admin API, its clock (for the time left of a process) and the
 * lengths of its periods (told to the operator before a deletion starts). A `LocalBackbone` is one.
 * @example
 * const backbone: AdminUiBackbone = new LocalBackbone({ storage: postgresStorage({ connectionString }) });
 * http.createServer(createAdminUiHandler(backbone, { adminKey })).listen(8081, "127.0.0.1");
 */
export interface AdminUiBackbone {
  /** The Admin API the pages read and act through. */
  readonly admin: BackboneAdmin;
  /** The Backbone's clock: what "time left" is counted from. */
  readonly clock: Clock;
  /** How long a process started here waits for the identity's approval. */
  readonly approvalPeriodInDays: number;
  /** How long an approved process waits before the identity is deleted. */
  readonly gracePeriodInDays: number;
}

/**
 * How `createAdminUiHandler` serves: the admin key operators sign in with, whether its cookies are for HTTPS
 * only, and where it reports requests and failures.
 * @example
 * const options: AdminUiOptions = {
 *   adminKey: readFileSync("/run/secrets/admin-key", "utf8").trim(),
 *   secureCookies: true, // served behind an HTTPS proxy
 *   onResponse: (entry) => console.log(JSON.stringify({ adminUi: true, ...entry })),
 * };
 */
export interface AdminUiOptions {
  /** The key operators sign in with: the admin routes' key, never the API key. */
  adminKey: string;
  /** Marks the cookies `Secure`, so a browser sends them over HTTPS only; set it behind an HTTPS proxy. Default false. */
  secureCookies?: boolean;
  /** Called once per request when its response is sent. */
  onResponse?: (entry: RequestLogEntry) => void;
  /** Told the cause of every 5xx answer, which the page never shows; default: `console.error`. */
  onError?: (error: unknown, request: { method: string; path: string }) => void;
}

/** Every answer's security headers: no script at all, style and forms from this origin only, never framed. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  // Not no-referrer: under it, Chromium sends `Origin: null` with a form, and the origin check could not pass.
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cache-control": "no-store",
} as const;

const SESSION_COOKIE = "admin_ui_session";
/** The sign-in form's CSRF token, double-submitted: in this cookie and in the form. */
const SIGN_IN_COOKIE = "admin_ui_sign_in";
const PAGE_SIZE = 20;
/** A form of this UI is a few hundred bytes; anything much larger is not one of them. */
const MAX_FORM_BYTES = 16 * 1024;
const MAX_SEARCH_LENGTH = 200;
/** Failed sign-ins allowed per minute, from anywhere: guessing the key stays slow, signing in stays possible. */
const MAX_FAILED_SIGN_INS_PER_MINUTE = 10;

/** A refusal of the UI's own, answered as a page. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a route is given; `S` is the session, which only the open routes may lack. */
interface Context<S extends Session | undefined> {
  request: IncomingMessage;
  response: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  session: S;
  cookies: Record<string, string>;
  report: (error: unknown) => void;
}

/** A page or form: open without a session (the stylesheet, signing in), or only within one. */
type UiRoute = { readonly method: "GET" | "POST"; readonly path: string } & (
  | { readonly open: true; run(context: Context<Session | undefined>): Promise<void> | void }
  | { readonly open?: false; run(context: Context<Session>): Promise<void> | void }
);

/**
 * A plain `node:http` request handler serving the Backbone Admin UI below `/admin-ui`: web pages on which an
 * operator signs in with the admin key, finds identities by their address, starts an identity's deletion with
 * a reason kept in the admin audit log, and follows every deletion process to its end. Server-rendered HTML
 * and plain forms, no script; a session cookie (HttpOnly, SameSite=Strict), a CSRF token on every form and a
 * strict Content-Security-Policy. Sessions live in memory: a restart signs operators out. Throws at once when
 * `adminKey` cannot be used.
 * @example
 * const backbone = new LocalBackbone({ storage });
 * const ui = createAdminUiHandler(backbone, { adminKey: process.env.ADMIN_KEY! });
 * http.createServer(ui).listen(8081, "127.0.0.1"); // open http://127.0.0.1:8081/admin-ui/
 */
export function createAdminUiHandler(
  backbone: AdminUiBackbone,
  options: AdminUiOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const problem = adminKeyProblem(options.adminKey);
  if (problem !== undefined) throw new TypeError(`createAdminUiHandler: ${problem}`);
  const isAdminKey = secretCheck(options.adminKey);
  const sessions = new Sessions();
  const failedSignIns: number[] = [];
  const cookie = (name: string, value: string, maxAgeSeconds?: number): string =>
    `${name}=${value}; Path=${BASE}; HttpOnly; SameSite=Strict${options.secureCookies === true ? "; Secure" : ""}` +
    (maxAgeSeconds === undefined ? "" : `; Max-Age=${maxAgeSeconds}`);
  const viewerOf = (session: Session): Viewer => ({
    operator: session.operator,
    csrfToken: session.csrfToken,
  });
  const { admin, clock } = backbone;

  const routes: readonly UiRoute[] = [
    {
      method: "GET",
      path: "/",
      open: true,
      run: ({ response, session }) =>
        redirect(response, session === undefined ? signInPath() : identitiesPath()),
    },
    {
      method: "GET",
      path: "/style.css",
      open: true,
      run: ({ response }) => {
        response.writeHead(200, {
          ...SECURITY_HEADERS,
          "content-type": "text/css; charset=utf-8",
          "cache-control": "max-age=300",
        });
        response.end(STYLESHEET_TEXT);
      },
    },
    {
      method: "GET",
      path: "/sign-in",
      open: true,
      run: ({ response, session, cookies }) => {
        if (session !== undefined) return redirect(response, identitiesPath());
        const csrfToken = signInTokenOf(cookies) ?? randomToken();
        sendPage(response, 200, signInPage({ csrfToken }), {
          "set-cookie": cookie(SIGN_IN_COOKIE, csrfToken, 3_600),
        });
      },
    },
    {
      method: "POST",
      path: "/sign-in",
      open: true,
      run: async ({ request, response, cookies }) => {
        const form = await readForm(request);
        const expected = signInTokenOf(cookies);
        if (expected === undefined || !secretCheck(expected)(field(form, "csrf"))) throw forbidden();
        const operator = field(form, "operator").trim();
        const again = (status: number, error: { field: "operator" | "key"; message: string }) =>
          sendPage(response, status, signInPage({ csrfToken: expected, operator }, error));
        if (operator === "" || operator.length > 100) {
          return again(400, { field: "operator", message: "Enter your name, up to 100 characters." });
        }
        const now = Date.now();
        while (failedSignIns.length > 0 && (failedSignIns[0] as number) < now - 60_000) failedSignIns.shift();
        if (failedSignIns.length >= MAX_FAILED_SIGN_INS_PER_MINUTE) {
          throw new Refusal(
            429,
            "Too many attempts",
            "Too many wrong admin keys were tried. Wait a minute, then try again.",
          );
        }
        if (!isAdminKey(field(form, "key"))) {
          failedSignIns.push(now);
          return again(401, { field: "key", message: "This is not the admin key." });
        }
        const started = sessions.start(operator);
        response.writeHead(303, {
          ...SECURITY_HEADERS,
          location: identitiesPath(),
          "set-cookie": [cookie(SESSION_COOKIE, started.id), cookie(SIGN_IN_COOKIE, "", 0)],
        });
        response.end();
      },
    },
    {
      method: "POST",
      path: "/sign-out",
      run: async ({ request, response, session }) => {
        // Signing out takes the token too: another site must not sign an operator out either.
        await readForm(request, session.csrfToken);
        sessions.end(session.id);
        response.writeHead(303, {
          ...SECURITY_HEADERS,
          location: signInPath(),
          "set-cookie": cookie(SESSION_COOKIE, "", 0),
        });
        response.end();
      },
    },
    {
      method: "GET",
      path: "/identities",
      run: async ({ response, query, session, report }) => {
        const search = (query.get("search") ?? "").trim();
        if (search.length > MAX_SEARCH_LENGTH) {
          throw new Refusal(400, "Search too long", `Search for at most ${MAX_SEARCH_LENGTH} characters.`);
        }
        const page = ok(
          await admin.listIdentities({ search, limit: PAGE_SIZE, offset: offsetOf(query) }),
          report,
        );
        sendPage(response, 200, identitiesPage(viewerOf(session), search, page, clock.now()));
      },
    },
    {
      method: "GET",
      path: "/identities/{address}",
      run: async ({ response, params, query, session, report }) => {
        const address = params["address"] ?? "";
        const identity = ok(await admin.getIdentity(address), report);
        const audit = ok(await admin.listAuditLog({ search: address, limit: 100 }), report);
        const started = query.get("started") ?? undefined;
        sendPage(
          response,
          200,
          identityPage(viewerOf(session), identity, audit.items, clock.now(), {
            refresh: query.get("refresh") !== "off",
            ...(started !== undefined && /^IDP[A-Za-z0-9]{17}$/.test(started) ? { started } : {}),
          }),
        );
      },
    },
    {
      method: "GET",
      path: "/identities/{address}/deletion",
      run: async ({ response, params, session, report }) => {
        const identity = ok(await admin.getIdentity(params["address"] ?? ""), report);
        sendPage(response, 200, startPage(viewerOf(session), identity.address, backbone));
      },
    },
    {
      method: "POST",
      path: "/identities/{address}/deletion",
      run: async ({ request, response, params, session, report }) => {
        const viewer = viewerOf(session);
        const address = params["address"] ?? "";
        const form = await readForm(request, viewer.csrfToken);
        const reason = field(form, "reason").trim();
        if (reason === "" || reason.length > 500) {
          const error = "Enter the reason: the ticket or e-mail reference, up to 500 characters.";
          return sendPage(response, 400, startPage(viewer, address, backbone, { reason, error }));
        }
        const started = await admin.startIdentityDeletionProcess(address, {
          operator: viewer.operator,
          reason,
        });
        if (started.ok) return redirect(response, `${identityPath(address)}?started=${started.val.id}`);
        const status = statusOfCode(started.val.code);
        // A conflict (a process is already active) is shown where the operator is, with what they typed.
        if (status !== 409) ok(started, report);
        sendPage(
          response,
          409,
          startPage(viewer, address, backbone, { reason, refusal: started.val.message }),
        );
      },
    },
    {
      method: "GET",
      path: "/audit",
      run: async ({ response, query, session, report }) => {
        const page = ok(await admin.listAuditLog({ limit: PAGE_SIZE, offset: offsetOf(query) }), report);
        sendPage(response, 200, auditPage(viewerOf(session), page));
      },
    },
  ];

  /** Before any form is read: a POST from another site is refused, whatever it carries. */
  const checkSameOrigin = (request: IncomingMessage): void => {
    const site = request.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin") throw forbidden();
    const origin = request.headers.origin;
    if (origin === undefined) return;
    if (!URL.canParse(origin) || new URL(origin).host !== request.headers.host) throw forbidden();
  };

  /** The form of a POST, refused unless it carries the session's CSRF token (when `csrfToken` is given). */
  const readForm = async (request: IncomingMessage, csrfToken?: string): Promise<URLSearchParams> => {
    const form = new URLSearchParams(
      (await readBodyText(request, MAX_FORM_BYTES, (type) => type === "application/x-www-form-urlencoded")) ??
        "",
    );
    if (csrfToken !== undefined && !secretCheck(csrfToken)(field(form, "csrf"))) throw forbidden();
    return form;
  };

  return guarded(
    async (request, response, method, { path, search }, report) => {
      const cookies = cookiesOf(request.headers.cookie);
      const session = sessions.find(cookies[SESSION_COOKIE]);
      try {
        const { route, params } = routeFor(routes, method, pathBelow([BASE], path), path);
        if (route.method === "POST") checkSameOrigin(request);
        const context = { request, response, params, query: new URLSearchParams(search), cookies, report };
        if (route.open === true) return await route.run({ ...context, session });
        if (session !== undefined) return await route.run({ ...context, session });
        // Unread, the body of a POST is drained: the connection stays usable.
        request.resume();
        redirect(response, signInPath());
      } catch (error) {
        const refusal = refusalOf(error);
        if (refusal === undefined) throw error;
        request.resume();
        sendPage(
          response,
          refusal.status,
          problemPage(session === undefined ? undefined : viewerOf(session), refusal.title, refusal.message),
          error instanceof HttpFailure ? error.headers : {},
        );
      }
    },
    options,
    (response, failure) => {
      const refusal = refusalOf(failure) as Refusal;
      sendPage(
        response,
        refusal.status,
        problemPage(undefined, refusal.title, refusal.message),
        failure.headers,
      );
    },
  );
}

/** A Result's value, or the refusal its error is answered with; the cause of a 5xx goes to `report`. */
function ok<T>(result: RuntimeResult<T>, report: (error: unknown) => void): T {
  if (result.ok) return result.val;
  if (statusOfCode(result.val.code) >= 500) report(result.val.cause ?? result.val);
  throw publicError(result.val);
}

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Not signed in",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  408: "Too slow",
  409: "Conflict",
  413: "Form too large",
  415: "Not a form",
  500: "Something went wrong",
  503: "Unavailable",
};

/** The page an error is answered with, or undefined for an unexpected one (which `guarded` reports). */
function refusalOf(error: unknown): Refusal | undefined {
  if (error instanceof Refusal) return error;
  if (!(error instanceof HttpFailure)) return undefined;
  const title = TITLES[error.status] ?? "Refused";
  if (error.status === 404 && error.code === "error.runtime.recordNotFound") {
    return new Refusal(404, "No such identity", "The Backbone knows no identity with this address.");
  }
  if (error.status === 415) {
    return new Refusal(415, title, "Send the forms of these pages as application/x-www-form-urlencoded.");
  }
  return new Refusal(error.status, title, error.message);
}

function forbidden(): Refusal {
  return new Refusal(
    403,
    "Forbidden",
    "This form was not sent from a page of this Admin UI, or the page has expired. Go back, reload the page and send it again.",
  );
}

function redirect(response: ServerResponse, location: string): void {
  response.writeHead(303, { ...SECURITY_HEADERS, location });
  response.end();
}

function sendPage(
  response: ServerResponse,
  status: number,
  page: SafeHtml,
  headers: Record<string, string | string[]> = {},
): void {
  const text = page.toString();
  response.writeHead(status, {
    ...headers,
    ...SECURITY_HEADERS,
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

/** A form field given once; missing, it is empty, and given twice it is refused (it is not one of ours). */
function field(form: URLSearchParams, name: string): string {
  const values = form.getAll(name);
  if (values.length > 1)
    throw new Refusal(400, "Bad request", `The form field ${name} was sent more than once.`);
  return values[0] ?? "";
}

function offsetOf(query: URLSearchParams): number {
  const text = query.get("offset") ?? "0";
  return /^\d{1,9}$/.test(text) ? Number(text) : 0;
}

/** The sign-in token of the cookie, if it is one this handler could have made. */
function signInTokenOf(cookies: Record<string, string>): string | undefined {
  const token = cookies[SIGN_IN_COOKIE];
  return token !== undefined && /^[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
}

/** The cookies of a Cookie header, by name; a prototype-less object, so no name can reach a prototype. */
function cookiesOf(header: string | undefined): Record<string, string> {
  const cookies = Object.create(null) as Record<string, string>;
  for (const pair of (header ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at > 0) cookies[pair.slice(0, at).trim()] ??= pair.slice(at + 1).trim();
  }
  return cookies;
}
