// `node tests/run-suite.mjs <sqlite|postgres>`: the whole jest suite again, with every test world's Backbone
// and runtimes on that storage (the adapters' own tests run once, in the main run).
import { spawnSync } from "node:child_process";

const kind = process.argv[2];
if (kind !== "sqlite" && kind !== "postgres") {
  console.error("usage: node tests/run-suite.mjs <sqlite|postgres>");
  process.exit(2);
}
if (kind === "postgres" && process.env.DATABASE_URL === undefined) {
  if (process.env.CI === "true") {
    console.error(
      "test:postgres: DATABASE_URL is not set; in CI the PostgreSQL suite must run (.ci/run starts a server)",
    );
    process.exit(1);
  }
  console.log("test:postgres: skipped, DATABASE_URL is not set (CI sets it; see .ci/run)");
  process.exit(0);
}
const jest = spawnSync(
  process.execPath,
  [
    "node_modules/jest/bin/jest.js",
    "--testPathIgnorePatterns",
    "tests/storage/",
    "tests/http/server.test.ts",
    "tests/http/serve-connector.test.ts",
    "tests/http/connector-story.test.ts",
    // They run their own servers on a storage of their choosing: once, in the main run, is enough.
    "tests/admin-ui/browser.test.ts",
    "tests/admin-ui/cli.test.ts",
  ],
  { stdio: "inherit", env: { ...process.env, IDENTITY_RUNTIME_TEST_STORAGE: kind } },
);
process.exit(jest.status ?? 1);
