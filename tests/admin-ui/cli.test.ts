// The Admin UI as the command line serves it: mounted by `serve` with an admin key, and alone by `admin`.
import { startCli, startServer } from "../http/cli";

jest.setTimeout(30_000);

describe("serve", () => {
  test("mounts the Admin UI below /admin-ui with the admin key, beside the API and the admin routes", async () => {
    const { cli, url } = await startServer(["--api-key", "api-key"], {
      IDENTITY_RUNTIME_ADMIN_KEY: "admin-key",
    });
    const signIn = await fetch(`${url}/admin-ui/sign-in`);
    expect(signIn.status).toBe(200);
    expect(await signIn.text()).toContain("<h1>Sign in</h1>");
    expect(
      (await fetch(`${url}/admin/v1/Identities`, { headers: { "x-admin-key": "admin-key" } })).status,
    ).toBe(200);
    await cli.line((line) => line.msg === "admin ui request" && line["path"] === "/admin-ui/sign-in");
  });

  test("without an admin key there is no Admin UI", async () => {
    const { url } = await startServer(["--api-key", "api-key"]);
    expect((await fetch(`${url}/admin-ui/sign-in`, { headers: { "x-api-key": "api-key" } })).status).toBe(
      404,
    );
  });
});

describe("admin", () => {
  test("serves the UI and the admin routes on the storage, and stops on SIGTERM", async () => {
    const cli = startCli(["admin", "--port", "0"], { IDENTITY_RUNTIME_ADMIN_KEY: "admin-key" });
    const url = (await cli.line((line) => line.msg === "listening")).url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/admin-ui\/$/);
    const root = await fetch(new URL("/", url), { redirect: "manual" });
    expect([root.status, root.headers.get("location")]).toStrictEqual([303, "/admin-ui/"]);
    expect((await fetch(url, { redirect: "manual" })).headers.get("location")).toBe("/admin-ui/sign-in");
    const identities = await fetch(new URL("/admin/v1/Identities", url), {
      headers: { "x-admin-key": "admin-key" },
    });
    expect(await identities.json()).toStrictEqual({ result: { items: [], total: 0, limit: 20, offset: 0 } });
    cli.child.kill("SIGTERM");
    expect(await cli.exited()).toStrictEqual({ code: 0, signal: null });
  });

  test.each([
    [[], "an admin key is required"],
    [["--admin-key", "a", "--admin-key-file", "f"], "give --admin-key or --admin-key-file, not both"],
    [["--admin-key", " spaced"], "the admin key must be printable ASCII"],
    [["--storage", "nowhere"], "is not a storage"],
    [["--port", "0x10"], "--port must be a whole number"],
  ])("refuses %j with a usage error", async (args, message) => {
    const env: Record<string, string> = args.length === 0 ? {} : { IDENTITY_RUNTIME_ADMIN_KEY: "admin-key" };
    const cli = startCli(["admin", ...args], env);
    expect(await cli.exited()).toStrictEqual({ code: 2, signal: null });
    expect(cli.stderr()).toContain(message);
  });
});
