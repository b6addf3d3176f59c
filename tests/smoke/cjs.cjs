// Smoke test of the BUILT package through its CommonJS entry points.
// Run after `npm run build`: node tests/smoke/cjs.cjs
// "identity-runtime" resolves to this package itself via package.json "exports" (self-reference).
"use strict";
const assert = require("node:assert/strict");
const lib = require("identity-runtime");
const testing = require("identity-runtime/testing");

// Accept both result shapes: `isOk` (boolean or method) and ts-results' own `ok` flag.
function resultIsOk(r) {
  if (typeof r?.isOk === "function") return r.isOk() === true;
  if (typeof r?.isOk === "boolean") return r.isOk;
  return r?.ok === true;
}

const expectedTypes = {
  createRuntime: "function",
  LocalBackbone: "function",
  ManualClock: "function",
  SystemClock: "function",
  lokiStorage: "function",
  Ok: "function",
  Err: "function",
  ErrorCodes: "object",
};

async function main() {
  for (const [name, type] of Object.entries(expectedTypes)) {
    assert.equal(typeof lib[name], type, `identity-runtime: export ${name} should be a ${type}`);
  }
  assert.equal(
    typeof testing.runStorageAdapterComplianceSuite,
    "function",
    "identity-runtime/testing: export runStorageAdapterComplianceSuite should be a function",
  );

  const rt = await lib.createRuntime();
  try {
    const r = await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value: { a: 1 } });
    assert.ok(resultIsOk(r), `upsertIdentityMetadata failed: ${JSON.stringify(r?.error ?? r?.val ?? r)}`);
  } finally {
    await rt.close();
  }

  console.log("cjs smoke ok");
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
