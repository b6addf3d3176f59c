// `npm run test:examples`: the integrator example of examples/crm against the packed package, as a user
// would have it installed, and examples/two-servers against the build. Needs `npm run build` first. It packs the package, installs the tarball into the
// example, type-checks the example's tests (the matchers' types), runs them under jest and vitest, and then
// once more with the app's reaction broken, where both must fail.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const example = join(root, "examples", "crm");
const bin = (path) => join(root, "node_modules", path);

function run(title, command, args, cwd = root) {
  const { status } = spawnSync(command, args, { cwd, stdio: "inherit", env: { ...process.env, CI: "true" } });
  console.log(`${title}: exit ${status}`);
  return status;
}

const packed = mkdtempSync(join(tmpdir(), "identity-runtime-pack-"));
try {
  execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", packed], {
    cwd: root,
    stdio: "ignore",
  });
  const tarball = join(packed, execFileSync("ls", [packed]).toString().trim());
  rmSync(join(example, "node_modules"), { recursive: true, force: true });
  execFileSync(
    "npm",
    ["install", "--no-save", "--no-package-lock", "--ignore-scripts", "--no-audit", "--no-fund", tarball],
    { cwd: example, stdio: "inherit" },
  );

  const failures = [];
  const expect = (title, status, wanted) => {
    if ((status === 0) !== wanted) failures.push(`${title} ${wanted ? "failed" : "passed, but must fail"}`);
  };
  for (const runner of ["jest", "vitest"]) {
    const tsc = [bin("typescript/bin/tsc"), "-p", join(example, runner, "tsconfig.json")];
    expect(`tsc (${runner})`, run(`tsc (${runner})`, process.execPath, tsc), true);
  }
  const jest = (dir) => [bin("jest/bin/jest.js"), "--config", join(dir, "jest", "jest.config.cjs")];
  const vitest = (dir) => [bin("vitest/vitest.mjs"), "run", "--root", join(dir, "vitest")];
  expect("jest", run("jest", process.execPath, jest(example)), true);
  expect("vitest", run("vitest", process.execPath, vitest(example)), true);

  // The same tests against a copy of the app whose reaction is broken: they must fail.
  const broken = join(root, "examples", ".crm-broken");
  rmSync(broken, { recursive: true, force: true });
  cpSync(example, broken, { recursive: true, filter: (path) => !path.includes("node_modules") });
  symlinkSync(join(example, "node_modules"), join(broken, "node_modules"));
  const app = join(broken, "crm.ts");
  const working = readFileSync(app, "utf8");
  const mutated = working.replace("this.#closed.add(event.data.peer);", "void event;");
  if (mutated === working) failures.push("the broken copy of the app is not broken: crm.ts changed");
  writeFileSync(app, mutated);
  try {
    expect("jest on the broken app", run("jest on the broken app", process.execPath, jest(broken)), false);
    expect(
      "vitest on the broken app",
      run("vitest on the broken app", process.execPath, vitest(broken)),
      false,
    );
  } finally {
    rmSync(broken, { recursive: true, force: true });
  }

  // The two-servers example: two `serve` processes of the build on one SQLite file, through Ada's deletion.
  const story = spawnSync(process.execPath, [join(root, "examples", "two-servers", "run.mjs")], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, DATABASE_URL: "" },
  });
  process.stdout.write(story.stdout ?? "");
  process.stderr.write(story.stderr ?? "");
  const told = [
    "[webhook → Org's receiver] transport.peerToBeDeleted",
    "[webhook → Org's receiver] transport.peerDeleted",
    "refused: error.runtime.messages.peerIsInDeletion",
    "refused: error.transport.messages.peerIsDeleted",
    "Done.",
  ];
  const untold = told.filter((line) => !(story.stdout ?? "").includes(line));
  if (story.status !== 0 || untold.length > 0)
    failures.push(`two-servers exited ${story.status} without ${JSON.stringify(untold)}`);

  if (failures.length > 0) {
    console.error(`examples: ${failures.join("; ")}`);
    process.exitCode = 1;
  } else {
    console.log(
      "examples ok: jest and vitest pass on the app and fail on a broken one; two-servers tells the whole story",
    );
  }
} finally {
  rmSync(packed, { recursive: true, force: true });
}
