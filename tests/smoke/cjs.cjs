// Smoke test of the BUILT package through its CommonJS entry points, as a plain Node consumer requires it.
// Run by tests/smoke/consumer.mjs inside a scratch consumer that installed the packed tarball.
const lib = require("identity-runtime");
const testing = require("identity-runtime/testing");
const { checkExports, checkLiveRuntime } = require("./checks.cjs");

checkExports(lib, testing);
checkLiveRuntime(lib, testing).then(
  () => console.log("cjs smoke ok"),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
