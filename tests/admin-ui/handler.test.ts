// The Admin UI's handler without a browser: sessions, CSRF, escaping, headers, paging, the audit log, and
// answers to requests no page sends. tests/admin-ui/browser.test.ts drives the same pages in Chromium.
import { createAdminUiHandler } from "../../src/index";
import type { Runtime } from "../../src/index";
import { ok, START, UNKNOWN_ADDRESS, world } from "../support";
import type { World } from "../support";
import { ADMIN_KEY, serveUi, uiClient } from "./ui-client";
import type { UiClient } from "./ui-client";

const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const DAY = 86_400_000;

let w: World;
beforeEach(() => {
  w = world();
});
afterEach(() => w.close());

const identityPath = (address: string) => `/admin-ui/identities/${encodeURIComponent(address)}`;
const startPath = (address: string) => `${identityPath(address)}/deletion`;

async function signedIn(operator = "Jane Doe"): Promise<UiClient> {
  const client = uiClient(await serveUi(w.backbone));
  const answer = await client.signIn(operator);
  expect(answer.status).toBe(303);
  expect(answer.headers.get("location")).toBe("/admin-ui/identities");
  return client;
}

/** Starts `runtime`'s deletion through the confirmation page, as an operator does. */
async function startDeletion(client: UiClient, runtime: Runtime, reason = "Ticket #4711") {
  await client.get(startPath(runtime.address));
  return client.post(startPath(runtime.address), [
    ["csrf", client.csrf()],
    ["reason", reason],
  ]);
}

describe("signing in", () => {
  test("every page but the sign-in needs a session: without one, the way leads to signing in", async () => {
    const client = uiClient(await serveUi(w.backbone));
    for (const path of [
      "/admin-ui",
      "/admin-ui/identities",
      "/admin-ui/audit",
      identityPath(UNKNOWN_ADDRESS),
    ]) {
      const page = await client.get(path);
      expect([page.status, page.headers.get("location")]).toStrictEqual([303, "/admin-ui/sign-in"]);
    }
    const signIn = await client.get("/admin-ui/sign-in");
    expect(signIn.status).toBe(200);
    expect(signIn.text).toContain('<label for="key">Admin key</label>');
  });

  test("the right key starts a session in an HttpOnly, SameSite=Strict cookie below /admin-ui", async () => {
    const client = uiClient(await serveUi(w.backbone));
    await client.get("/admin-ui/sign-in");
    const answer = await client.post("/admin-ui/sign-in", [
      ["csrf", client.csrf()],
      ["operator", "Jane Doe"],
      ["key", ADMIN_KEY],
    ]);
    const session = answer.headers.getSetCookie().find((line) => line.startsWith("admin_ui_session="));
    expect(session).toMatch(
      /^admin_ui_session=[A-Za-z0-9_-]{43}; Path=\/admin-ui; HttpOnly; SameSite=Strict$/,
    );
    const identities = await client.get("/admin-ui/identities");
    expect(identities.status).toBe(200);
    expect(identities.text).toContain("Signed in as <strong>Jane Doe</strong>");
  });

  test("secureCookies marks the cookies Secure", async () => {
    const client = uiClient(await serveUi(w.backbone, { secureCookies: true }));
    const page = await client.get("/admin-ui/sign-in");
    expect(page.headers.getSetCookie()[0]).toMatch(/; Secure; Max-Age=3600$/);
  });

  test("a wrong key is refused with the error tied to the field, and no session", async () => {
    const client = uiClient(await serveUi(w.backbone));
    await client.get("/admin-ui/sign-in");
    const answer = await client.post("/admin-ui/sign-in", [
      ["csrf", client.csrf()],
      ["operator", "Mallory"],
      ["key", "not-the-key"],
    ]);
    expect(answer.status).toBe(401);
    expect(answer.text).toContain('aria-invalid="true" aria-describedby="key-error"');
    expect(answer.text).toContain('<p class="error" id="key-error">This is not the admin key.</p>');
    expect(client.cookies.has("admin_ui_session")).toBe(false);
    expect((await client.get("/admin-ui/identities")).status).toBe(303);
  });

  test("a name is required, and guessing the key is slowed to 10 wrong keys a minute", async () => {
    const client = uiClient(await serveUi(w.backbone));
    await client.get("/admin-ui/sign-in");
    const form = (operator: string, key: string): [string, string][] => [
      ["csrf", client.csrf()],
      ["operator", operator],
      ["key", key],
    ];
    expect((await client.post("/admin-ui/sign-in", form("  ", ADMIN_KEY))).status).toBe(400);
    for (let attempt = 0; attempt < 10; attempt++) {
      expect((await client.post("/admin-ui/sign-in", form("M", `guess-${attempt}`))).status).toBe(401);
    }
    expect((await client.post("/admin-ui/sign-in", form("M", "guess-11"))).status).toBe(429);
    expect((await client.post("/admin-ui/sign-in", form("Jane", ADMIN_KEY))).status).toBe(429);
  });

  test("signing out ends the session", async () => {
    const client = await signedIn();
    const cookie = client.cookies.get("admin_ui_session") as string;
    await client.get("/admin-ui/identities");
    const answer = await client.post("/admin-ui/sign-out", [["csrf", client.csrf()]]);
    expect([answer.status, answer.headers.get("location")]).toStrictEqual([303, "/admin-ui/sign-in"]);
    client.cookies.set("admin_ui_session", cookie);
    expect((await client.get("/admin-ui/identities")).status).toBe(303);
  });

  test("an admin key no header could carry is refused when the handler is made", () => {
    expect(() => createAdminUiHandler(w.backbone, { adminKey: " spaced " })).toThrow(TypeError);
  });
});

describe("CSRF", () => {
  test("the sign-in form without its token, or with another, is refused", async () => {
    const client = uiClient(await serveUi(w.backbone));
    await client.get("/admin-ui/sign-in");
    for (const csrf of [[], [["csrf", "x".repeat(43)]]] as [string, string][][]) {
      const answer = await client.post("/admin-ui/sign-in", [...csrf, ["operator", "M"], ["key", ADMIN_KEY]]);
      expect(answer.status).toBe(403);
    }
    expect(client.cookies.has("admin_ui_session")).toBe(false);
  });

  test("starting a deletion without the session's token, or from another site, starts nothing", async () => {
    const runtime = await w.runtime();
    const client = await signedIn();
    await client.get(startPath(runtime.address));
    const token = client.csrf();
    const reason: [string, string] = ["reason", "Ticket #1"];
    const refused = [
      await client.post(startPath(runtime.address), [reason]),
      await client.post(startPath(runtime.address), [["csrf", "wrong"], reason]),
      await client.post(startPath(runtime.address), [["csrf", token], reason], {
        origin: "https://evil.example",
      }),
      await client.post(startPath(runtime.address), [["csrf", token], reason], {
        "sec-fetch-site": "cross-site",
      }),
    ];
    for (const answer of refused) {
      expect(answer.status).toBe(403);
      expect(answer.text).toContain("<h1>Forbidden</h1>");
    }
    expect(ok(await w.backbone.admin.getIdentity(runtime.address)).deletionProcesses).toStrictEqual([]);
    expect(ok(await w.backbone.admin.listAuditLog()).total).toBe(0);
  });

  test("signing out takes the token too", async () => {
    const client = await signedIn();
    expect((await client.post("/admin-ui/sign-out", [])).status).toBe(403);
    expect((await client.get("/admin-ui/identities")).status).toBe(200);
  });
});

describe("pages", () => {
  test("every answer carries the strict CSP and its siblings; no page has a script or an inline style", async () => {
    const runtime = await w.runtime();
    const client = await signedIn();
    const paths = [
      "/admin-ui/identities",
      identityPath(runtime.address),
      startPath(runtime.address),
      "/admin-ui/audit",
      "/admin-ui/nowhere",
    ];
    for (const path of paths) {
      const page = await client.get(path);
      expect(page.headers.get("content-security-policy")).toBe(CSP);
      expect(page.headers.get("x-content-type-options")).toBe("nosniff");
      expect(page.headers.get("x-frame-options")).toBe("DENY");
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(page.text).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
      expect(page.text).toMatch(/^<!doctype html>\n<html lang="en">/);
      expect(page.text.match(/<h1>/g)).toHaveLength(1);
      expect(page.text).toContain('<a class="skip" href="#main">Skip to main content</a>');
    }
    const css = await client.get("/admin-ui/style.css");
    expect([css.status, css.headers.get("content-type")]).toStrictEqual([200, "text/css; charset=utf-8"]);
  });

  test("a script-shaped search is shown as text, never as markup", async () => {
    const client = await signedIn();
    const attack = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`;
    const page = await client.get(`/admin-ui/identities?search=${encodeURIComponent(attack)}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain("<script>alert");
    expect(page.text).not.toContain("<img");
    expect(page.text).toContain(
      "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;",
    );
  });

  test("identities are found by part of the address and paged 20 at a time", async () => {
    const made: string[] = [];
    for (let index = 0; index < 25; index++) {
      made.push(await w.backbone.createIdentity());
      w.clock.advance({ ms: 1 });
    }
    const client = await signedIn();
    const first = await client.get("/admin-ui/identities");
    expect(first.text.match(/<tr>\n<th scope="row">/g)).toHaveLength(20);
    expect(first.text).toContain("Showing 1 to 20 of 25.");
    expect(first.text).toContain('<a href="/admin-ui/identities?offset=20" rel="next">Next page</a>');
    const second = await client.get("/admin-ui/identities?offset=20");
    expect(second.text.match(/<tr>\n<th scope="row">/g)).toHaveLength(5);
    expect(second.text).toContain('rel="prev">Previous page</a>');
    const beyond = await client.get("/admin-ui/identities?offset=100");
    expect(beyond.text).toContain("Showing none of 25.");
    expect(beyond.text).toContain('<a href="/admin-ui/identities?offset=20" rel="prev">Previous page</a>');
    const target = made[7] as string;
    const found = await client.get(`/admin-ui/identities?search=${target.slice(-8).toUpperCase()}`);
    expect(found.text).toContain("Showing 1 to 1 of 1.");
    expect(found.text).toContain(`<a href="${identityPath(target)}">${target}</a>`);
  });

  test("an unknown identity is a 404 page", async () => {
    const client = await signedIn();
    const page = await client.get(identityPath(UNKNOWN_ADDRESS));
    expect(page.status).toBe(404);
    expect(page.text).toContain("<h1>No such identity</h1>");
    expect((await client.get("/admin-ui/identities/not-an-address")).status).toBe(400);
  });
});

describe("starting a deletion and following it", () => {
  test("the whole path: start with a reason, WaitingForApproval, approved, the grace period, deleted", async () => {
    const runtime = await w.runtime();
    const client = await signedIn("Jane Doe");
    const confirm = await client.get(startPath(runtime.address));
    expect(confirm.text).toContain("The identity has\n7 days to approve or reject it");
    const started = await startDeletion(client, runtime, "Ticket #4711");
    expect(started.status).toBe(303);
    const location = started.headers.get("location") as string;
    expect(location).toMatch(new RegExp(`^${identityPath(runtime.address)}\\?started=IDP[A-Za-z0-9]{17}$`));

    w.clock.advance({ hours: 1 });
    const waiting = await client.get(location);
    expect(waiting.text).toContain('<span class="status waiting">Waiting for approval</span>');
    expect(waiting.text).toContain("(6 days 23 hours left)");
    expect(waiting.text).toContain('<meta http-equiv="refresh" content="15">');
    expect(waiting.text).not.toContain("Start deletion…");
    expect((await client.get(`${identityPath(runtime.address)}?refresh=off`)).text).not.toContain(
      "http-equiv",
    );

    ok(await runtime.identityDeletion.approveIdentityDeletionProcess());
    const approved = await client.get(identityPath(runtime.address));
    expect(approved.text).toContain('<span class="status approved">Approved</span>');
    const graceEnd = new Date(START.getTime() + 1 * 3_600_000 + 14 * DAY).toISOString();
    expect(approved.text).toContain(`<time datetime="${graceEnd}">`);
    expect(approved.text).toContain("(14 days 0 hours left)");

    w.clock.advance({ days: 15 });
    await w.backbone.runDueJobs();
    const deleted = await client.get(identityPath(runtime.address));
    expect(deleted.text).toContain('<span class="status deleted">Deleted</span>');
    expect(deleted.text).not.toContain("http-equiv");
  });

  test("an approval period that ends undecided shows Cancelled by expiry", async () => {
    const runtime = await w.runtime();
    const client = await signedIn();
    await startDeletion(client, runtime);
    w.clock.advance({ days: 8 });
    const page = await client.get(identityPath(runtime.address));
    expect(page.text).toContain("Cancelled – the approval period ended undecided");
    expect(page.text).toContain("Start deletion…");
  });

  test("a reason is required; the error is tied to the field and what was typed stays", async () => {
    const runtime = await w.runtime();
    const client = await signedIn();
    await client.get(startPath(runtime.address));
    const page = await client.post(startPath(runtime.address), [
      ["csrf", client.csrf()],
      ["reason", "   "],
    ]);
    expect(page.status).toBe(400);
    expect(page.text).toContain('aria-describedby="reason-hint reason-error" aria-invalid="true"');
    expect(page.text).toContain('<p class="error" id="reason-error">');
    const long = await client.post(startPath(runtime.address), [
      ["csrf", client.csrf()],
      ["reason", "r".repeat(501)],
    ]);
    expect(long.status).toBe(400);
    expect(ok(await w.backbone.admin.getIdentity(runtime.address)).deletionProcesses).toStrictEqual([]);
  });

  test("the audit log keeps who, when, which identity, why and the outcome, refusals too, escaped", async () => {
    const runtime = await w.runtime();
    const client = await signedIn("Jane <b>Doe</b>");
    await startDeletion(client, runtime, "E-mail of 2030-01-01 <script>x()</script>");
    w.clock.advance({ minutes: 5 });
    const again = await startDeletion(client, runtime, "Ticket #2");
    expect(again.status).toBe(409);
    expect(again.text).toContain('role="alert"');

    const log = ok(await w.backbone.admin.listAuditLog());
    expect(log.total).toBe(2);
    expect(
      log.items.map(({ at, operator, address, reason, outcome }) => ({
        at,
        operator,
        address,
        reason,
        outcome,
      })),
    ).toStrictEqual([
      {
        at: new Date(START.getTime() + 5 * 60_000).toISOString(),
        operator: "Jane <b>Doe</b>",
        address: runtime.address,
        reason: "Ticket #2",
        outcome: "refused",
      },
      {
        at: START.toISOString(),
        operator: "Jane <b>Doe</b>",
        address: runtime.address,
        reason: "E-mail of 2030-01-01 <script>x()</script>",
        outcome: "started",
      },
    ]);
    expect(log.items[0]?.errorCode).toBe(
      "error.runtime.identityDeletionProcess.activeIdentityDeletionProcessAlreadyExists",
    );

    const page = await client.get("/admin-ui/audit");
    expect(page.text).toContain("<td>Jane &lt;b&gt;Doe&lt;/b&gt;</td>");
    expect(page.text).toContain("E-mail of 2030-01-01 &lt;script&gt;x()&lt;/script&gt;");
    expect(page.text).toContain(`Started ${log.items[1]?.deletionProcessId ?? ""}`);
    expect(page.text).toContain(
      "Refused: error.runtime.identityDeletionProcess.activeIdentityDeletionProcessAlreadyExists",
    );
    expect((await client.get(identityPath(runtime.address))).text).toContain("Ticket #2");
  });

  test("the Backbone refuses an audit context without a name or reason, and starts nothing", async () => {
    const runtime = await w.runtime();
    const refused = await w.backbone.admin.startIdentityDeletionProcess(runtime.address, {
      operator: " ",
      reason: "x",
    });
    expect(refused.err).toBe(true);
    expect(ok(await w.backbone.admin.getIdentity(runtime.address)).deletionProcesses).toStrictEqual([]);
  });
});

describe("requests no page sends", () => {
  test("are answered with a page, never a crash", async () => {
    const runtime = await w.runtime();
    const client = await signedIn();
    await client.get(startPath(runtime.address));
    const csrf = client.csrf();
    const wrongMethod = await client.post("/admin-ui/identities", [["csrf", csrf]]);
    expect([wrongMethod.status, wrongMethod.headers.get("allow")]).toStrictEqual([405, "GET"]);
    const huge = await client.post(startPath(runtime.address), [
      ["csrf", csrf],
      ["reason", "r".repeat(100_000)],
    ]);
    expect(huge.status).toBe(413);
    const json = await client.post(startPath(runtime.address), [["reason", "r"]], {
      "content-type": "application/json",
    });
    expect([json.status, json.text.includes("<h1>Not a form</h1>")]).toStrictEqual([415, true]);
    const twice = await client.post(startPath(runtime.address), [
      ["csrf", csrf],
      ["csrf", csrf],
      ["reason", "r"],
    ]);
    expect(twice.status).toBe(400);
    const unknown = await client.get("/admin-ui/identities/x/y/z");
    expect([unknown.status, unknown.headers.get("content-type")]).toStrictEqual([
      404,
      "text/html; charset=utf-8",
    ]);
    const badEncoding = await client.get("/admin-ui/identities/%E0%A4%A");
    expect(badEncoding.status).toBe(400);
    expect((await client.get("/admin-ui/identities")).status).toBe(200);
  });
});
