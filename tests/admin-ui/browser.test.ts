// The Admin UI in a real browser: Debian's Chromium, driven by playwright-core (no browser download), against
// `identity-runtime admin` running as its own process on a SQLite file that this test's runtime shares. Without
// Chromium it skips with a note, except in CI (CI=true), where it fails: .ci/run installs Chromium.
// With ADMIN_UI_SCREENSHOTS=1 it writes the screenshots of docs/admin-ui.md to docs/admin-ui/.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { createRuntime, LocalBackbone, sqliteStorage } from "../../src/index";
import type { Runtime, StorageAdapter } from "../../src/index";
import { ROOT, startCli } from "../http/cli";

const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
/** Chromium's flags that work here (docs of this machine): no sandbox as root, no calls home, no GPU. */
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SCREENSHOTS = process.env["ADMIN_UI_SCREENSHOTS"] === "1" ? join(ROOT, "docs", "admin-ui") : undefined;
const ADMIN_KEY = "browser-test-admin-key";

jest.setTimeout(60_000);

/** `describe` for tests that need Chromium: skipped without it, failed without it in CI. */
function describeBrowser(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM)) return describe(name, fn);
  if (process.env["CI"] === "true") {
    describe(name, () => {
      test("Chromium is installed (required when CI=true)", () => {
        throw new Error(`no Chromium at ${CHROMIUM}. In CI the browser tests must run: .ci/run installs it.`);
      });
    });
    return;
  }
  console.log(
    `Skipping the browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`,
  );
  describe.skip(name, fn);
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS === undefined) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

describeBrowser("the Admin UI in Chromium", () => {
  let browser: Browser;
  let directory: string;
  let storage: StorageAdapter;
  let backbone: LocalBackbone;
  let runtime: Runtime;
  let url: string;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  });
  afterAll(async () => {
    await browser.close();
  });

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), "identity-runtime-admin-ui-"));
    const database = join(directory, "backbone.db");
    // The identity's side: a runtime on the Backbone's SQLite file, in this process.
    storage = sqliteStorage({ filename: database });
    backbone = new LocalBackbone({ storage });
    runtime = await createRuntime({ backbone, storage });
    // The operator's side: `identity-runtime admin` on the same file, in a process of its own.
    const keyFile = join(directory, "admin.key");
    writeFileSync(keyFile, `${ADMIN_KEY}\n`);
    const cli = startCli([
      "admin",
      "--port",
      "0",
      "--storage",
      `sqlite:${database}`,
      "--admin-key-file",
      keyFile,
    ]);
    url = (await cli.line((line) => line.msg === "listening")).url as string;
  });
  afterEach(async () => {
    await runtime.close();
    await backbone.close();
    await storage.close();
    rmSync(directory, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    // A dialog would mean that script ran: there is none on these pages.
    page.on("dialog", (dialog) => {
      throw new Error(`a dialog opened: ${dialog.message()}`);
    });
    return page;
  }

  async function signIn(page: Page, key = ADMIN_KEY): Promise<void> {
    await page.goto(url);
    await page.getByLabel("Your name").fill("Jane Doe");
    await page.getByLabel("Admin key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  test("sign in, find the identity, start its deletion, see it approved with the grace period's end", async () => {
    const page = await newPage();
    await page.goto(url);
    expect(new URL(page.url()).pathname).toBe("/admin-ui/sign-in");
    // The first Tab reaches the skip link: keyboard users pass the header in one step.
    await page.keyboard.press("Tab");
    await expect(page.locator(":focus").textContent()).resolves.toBe("Skip to main content");
    await page.getByLabel("Your name").fill("Jane Doe");
    await screenshot(page, "sign-in");

    await signIn(page, "not-the-key");
    await expect(page.locator("#key-error").textContent()).resolves.toBe("This is not the admin key.");
    expect(await page.getByLabel("Admin key").getAttribute("aria-describedby")).toBe("key-error");

    await signIn(page);
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Identities");
    await page.getByLabel("Address or part of it").fill(runtime.address.slice(-10));
    await page.getByLabel("Address or part of it").press("Enter");
    await page.waitForURL(/search=/);
    await expect(page.getByRole("row").count()).resolves.toBe(2);
    await screenshot(page, "identities");

    await page.getByRole("link", { name: runtime.address }).click();
    await page.getByRole("link", { name: "Start deletion…" }).click();
    await page
      .getByLabel("Reason: the support ticket or e-mail this answers")
      .fill("Ticket #4711: GDPR erasure request by e-mail");
    await screenshot(page, "start-deletion");
    await page.getByRole("button", { name: "Start deletion" }).click();
    await expect(page.getByRole("status").textContent()).resolves.toMatch(
      /^Deletion process IDP\w{17} started/,
    );
    await expect(page.locator(".facts").textContent()).resolves.toContain("Waiting for approval");
    await screenshot(page, "waiting-for-approval");

    // The identity approves through the library; the page shows it on its next load.
    const approved = (await runtime.identityDeletion.approveIdentityDeletionProcess()).unwrap();
    await page.reload();
    const facts = (await page.locator(".facts").textContent()) ?? "";
    expect(facts).toContain("Approved: deleted when the grace period ends");
    const end = approved.gracePeriodEndsAt as string;
    expect(facts).toContain(`${end.slice(0, 10)} ${end.slice(11, 19)} UTC`);
    expect(facts).toMatch(/\(1[34] days \d+ hours? left\)/);
    await screenshot(page, "approved");

    await page.getByRole("link", { name: "Audit log" }).click();
    const entry = (await page.getByRole("row").nth(1).textContent()) ?? "";
    expect(entry).toContain("Jane Doe");
    expect(entry).toContain("Ticket #4711: GDPR erasure request by e-mail");
    expect(entry).toContain(`Started ${approved.id}`);
    await screenshot(page, "audit-log");
  });

  test("a script-shaped search stays text, and a form without its CSRF token is refused", async () => {
    const page = await newPage();
    await signIn(page);
    const attack = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
    await page.getByLabel("Address or part of it").fill(attack);
    await page.getByLabel("Address or part of it").press("Enter");
    await page.waitForURL(/search=/);
    expect(await page.getByLabel("Address or part of it").inputValue()).toBe(attack);
    await expect(page.locator("main").textContent()).resolves.toContain(`No identity matches “${attack}”.`);
    await expect(page.locator("main script, main img").count()).resolves.toBe(0);

    await page.goto(
      new URL(`/admin-ui/identities/${encodeURIComponent(runtime.address)}/deletion`, url).href,
    );
    await page.getByLabel("Reason: the support ticket or e-mail this answers").fill("Ticket #1");
    // As text: the tests have no DOM types, and this is the one script the page ever runs.
    await page.evaluate(`document.querySelector('form.stack input[name="csrf"]').remove()`);
    const [response] = await Promise.all([
      page.waitForResponse((answer) => answer.request().method() === "POST"),
      page.getByRole("button", { name: "Start deletion" }).click(),
    ]);
    expect(response.status()).toBe(403);
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Forbidden");
    expect((await backbone.admin.getIdentity(runtime.address)).unwrap().deletionProcesses).toStrictEqual([]);
  });
});
