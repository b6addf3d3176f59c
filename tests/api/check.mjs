// `npm run docs:api`: builds the API reference (TypeDoc, warnings as errors: an undocumented member fails it)
// into tmp/api, and checks that every export of every entry point has an @example.
// `node tests/api/check.mjs --list` lists what is missing without failing on warnings.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const typedoc = join(root, "node_modules", "typedoc", "bin", "typedoc");
const listing = process.argv.includes("--list");

const built = spawnSync(
  process.execPath,
  [typedoc, ...(listing ? ["--treatWarningsAsErrors", "false"] : [])],
  {
    cwd: root,
    stdio: "inherit",
  },
);
if (built.status !== 0 && !listing) process.exit(built.status ?? 1);

const dir = mkdtempSync(join(tmpdir(), "identity-runtime-api-"));
try {
  const json = join(dir, "api.json");
  execFileSync(
    process.execPath,
    [typedoc, "--treatWarningsAsErrors", "false", "--logLevel", "Error", "--json", json],
    {
      cwd: root,
    },
  );
  const api = JSON.parse(readFileSync(json, "utf8"));
  const hasExample = (comment) => (comment?.blockTags ?? []).some((tag) => tag.tag === "@example");
  const missing = [];
  for (const entry of api.children ?? []) {
    for (const exported of entry.children ?? []) {
      const documented =
        hasExample(exported.comment) ||
        (exported.signatures ?? []).some((signature) => hasExample(signature.comment));
      if (!documented) missing.push(`${entry.name}: ${exported.name}`);
    }
  }
  if (missing.length > 0) {
    console.error(`API reference: ${missing.length} exports without an @example:\n  ${missing.join("\n  ")}`);
    process.exitCode = 1;
  } else {
    console.log("API reference: every export documented, each with an example (tmp/api)");
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
