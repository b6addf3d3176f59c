// `serve` as a Connector, as real server processes: webhooks through restarts and SIGKILLs, --identity, admin routes.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCli, startServer } from "./cli";
import { startReceiver } from "./receiver";

const TEST_TIMEOUT_MS = 60_000;
const API_KEY = "serve-webhooks-key";
let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "identity-runtime-webhooks-"));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

/** A port nothing listens on now: a receiver's, closed again. */
async function freePort(): Promise<number> {
  const probe = await startReceiver();
  await probe.close();
  return Number(new URL(probe.url).port);
}

function webhooksFile(port: number): string {
  const file = join(directory, "webhooks.json");
  writeFileSync(
    file,
    JSON.stringify({
      targets: { receiver: { url: `http://127.0.0.1:${port}/events` } },
      webhooks: [{ triggers: ["transport.identityDeletionProcessStatusChanged"], target: "receiver" }],
    }),
  );
  return file;
}

async function initiateDeletion(url: string): Promise<void> {
  const response = await fetch(`${url}/api/v2/IdentityDeletionProcesses`, {
    method: "POST",
    headers: { "x-api-key": API_KEY },
  });
  expect(response.status).toBe(201);
}

test(
  "SQLite: an event whose target was down when the server was killed with SIGKILL is delivered after the restart",
  async () => {
    const port = await freePort();
    const args = ["--storage", `sqlite:${join(directory, "db.sqlite")}`, "--webhooks", webhooksFile(port)];
    const env = { IDENTITY_RUNTIME_API_KEY: API_KEY };
    const first = await startServer(args, env);
    await initiateDeletion(first.url);
    // The event is journaled and its delivery failed at least once: it waits for the target.
    await first.cli.line(
      (line) => line.msg === "webhook delivery failed; retrying" && line["seq"] === 1,
      15_000,
    );
    first.cli.child.kill("SIGKILL");
    await first.cli.exited();

    const receiver = await startReceiver(port);
    try {
      const second = await startServer(args, env);
      expect(second.identity).toBe(first.identity);
      const [delivered] = await receiver.waitFor(1, 20_000);
      expect(delivered?.payload).toMatchObject({
        trigger: "transport.identityDeletionProcessStatusChanged",
        data: { status: "Approved" },
      });
      expect(delivered?.headers["x-event-seq"]).toBe("1");
      second.cli.child.kill("SIGTERM");
      expect(await second.cli.exited()).toStrictEqual({ code: 0, signal: null });
    } finally {
      await receiver.close();
    }
  },
  TEST_TIMEOUT_MS,
);

test(
  "serve --identity: two servers on one SQLite file with different names are two identities, and a name comes back to its own",
  async () => {
    const storage = ["--storage", `sqlite:${join(directory, "db.sqlite")}`];
    const env = { IDENTITY_RUNTIME_API_KEY: API_KEY };
    const org = await startServer([...storage, "--identity", "org"], env);
    org.cli.child.kill("SIGTERM");
    await org.cli.exited();
    const ada = await startServer([...storage, "--identity", "ada"], env);
    expect(ada.identity).not.toBe(org.identity);
    ada.cli.child.kill("SIGTERM");
    await ada.cli.exited();
    const orgAgain = await startServer([...storage, "--identity", "org"], env);
    expect(orgAgain.identity).toBe(org.identity);
    orgAgain.cli.child.kill("SIGTERM");
    await orgAgain.cli.exited();
  },
  TEST_TIMEOUT_MS,
);

test(
  "serve with an admin key: the Backbone Admin routes start a deletion the identity then sees; the API key opens no admin route",
  async () => {
    const { cli, url, identity } = await startServer([], {
      IDENTITY_RUNTIME_API_KEY: API_KEY,
      IDENTITY_RUNTIME_ADMIN_KEY: "admin-secret",
    });
    const admin = (path: string, key: string, method = "GET") =>
      fetch(`${url}/admin/v1${path}`, { method, headers: { "x-admin-key": key } });
    expect((await admin(`/Identities/${identity}/DeletionProcesses`, API_KEY, "POST")).status).toBe(401);
    const started = await admin(`/Identities/${identity}/DeletionProcesses`, "admin-secret", "POST");
    expect(started.status).toBe(201);
    expect(((await started.json()) as { result: { status: string } }).result.status).toBe(
      "WaitingForApproval",
    );
    const active = await fetch(`${url}/api/v2/IdentityDeletionProcesses/Active`, {
      headers: { "x-api-key": API_KEY },
    });
    expect(((await active.json()) as { result: { status: string } }).result.status).toBe(
      "WaitingForApproval",
    );
    const listed = await admin(`/Identities?search=${identity.slice(-6)}`, "admin-secret");
    expect(((await listed.json()) as { result: { total: number } }).result.total).toBe(1);
    // The admin key opens no API route.
    expect(
      (await fetch(`${url}/api/v2/IdentityDeletionProcesses`, { headers: { "x-api-key": "admin-secret" } }))
        .status,
    ).toBe(401);
    cli.child.kill("SIGTERM");
    expect(await cli.exited()).toStrictEqual({ code: 0, signal: null });
  },
  TEST_TIMEOUT_MS,
);

test("serve refuses an admin key equal to the API key, and starts without admin routes when none is given", async () => {
  const same = startCli(["serve", "--port", "0"], {
    IDENTITY_RUNTIME_API_KEY: API_KEY,
    IDENTITY_RUNTIME_ADMIN_KEY: API_KEY,
  });
  expect((await same.exited()).code).toBe(2);
  expect(same.stderr()).toMatch(/admin key must differ from the API key/);
  const { cli, url } = await startServer([], { IDENTITY_RUNTIME_API_KEY: API_KEY });
  const answer = await fetch(`${url}/admin/v1/Identities`, { headers: { "x-admin-key": "anything" } });
  // Without an admin key, /admin is no route of this server: the API's refusal answers.
  expect(answer.status).toBe(401);
  cli.child.kill("SIGTERM");
  await cli.exited();
});
