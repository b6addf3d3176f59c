// Packs the package as npm would publish it, installs the tarball into a scratch consumer (its dependencies
// linked from this checkout, so no network is needed), and runs the ESM and CJS smoke checks there.
// Run after `npm run build`: node tests/smoke/consumer.mjs
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "identity-runtime-consumer-"));
try {
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch], {
      cwd: root,
      encoding: "utf8",
    }),
  );
  const installed = join(scratch, "node_modules", "identity-runtime");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["xzf", join(scratch, packed[0].filename), "-C", installed, "--strip-components=1"]);
  const { dependencies } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const name of Object.keys(dependencies)) {
    symlinkSync(join(root, "node_modules", name), join(scratch, "node_modules", name), "dir");
  }
  for (const file of ["esm.mjs", "cjs.cjs", "checks.cjs"]) cpSync(join(here, file), join(scratch, file));
  for (const file of ["esm.mjs", "cjs.cjs"])
    execFileSync(process.execPath, [file], { cwd: scratch, stdio: "inherit" });
  // The bin the package declares runs from the installed package.
  const { bin } = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
  const help = execFileSync(process.execPath, [join(installed, bin["identity-runtime"]), "--help"], {
    encoding: "utf8",
  });
  if (!help.includes("identity-runtime serve")) throw new Error("the bin did not print its usage");
  console.log("bin smoke ok");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
