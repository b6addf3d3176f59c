// Smoke test of the BUILT package through its ESM entry points, as a plain Node consumer imports it.
// Run by tests/smoke/consumer.mjs inside a scratch consumer that installed the packed tarball.
import * as lib from "identity-runtime";
import * as testing from "identity-runtime/testing";
import { checkExports, checkLiveRuntime } from "./checks.cjs";

checkExports(lib, testing);
await checkLiveRuntime(lib, testing);
console.log("esm smoke ok");
