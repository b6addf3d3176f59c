// The checks both smoke consumers (ESM and CJS) run against the built package.
const assert = require("node:assert/strict");

const EXPECTED_EXPORTS = {
  createRuntime: "function",
  LocalBackbone: "function",
  ManualClock: "function",
  SystemClock: "function",
  lokiStorage: "function",
  Ok: "function",
  Err: "function",
  RuntimeError: "function",
  ErrorCodes: "object",
  HttpErrorCodes: "object",
  statusOfCode: "function",
  createHttpHandler: "function",
  openApiDocument: "function",
  createAdminHandler: "function",
  adminKeyProblem: "function",
  startWebhooks: "function",
  verifyWebhookSignature: "function",
  webhooksConfigProblems: "function",
};

function checkExports(lib, testing) {
  for (const [name, type] of Object.entries(EXPECTED_EXPORTS)) {
    assert.equal(typeof lib[name], type, `identity-runtime should export ${name} as a ${type}`);
  }
  for (const name of [
    "runStorageAdapterComplianceSuite",
    "runComplianceCase",
    "createTestWorld",
    "assertOk",
    "assertErr",
  ]) {
    assert.equal(typeof testing[name], "function", `identity-runtime/testing should export ${name}`);
  }
}

async function checkLiveRuntime(lib, testing) {
  const backbone = new lib.LocalBackbone({ clock: new lib.ManualClock() });
  const rt = await lib.createRuntime({ backbone });
  try {
    const value = { "@type": "Note", list: [1, null, "x"] };
    const upserted = await rt.identityMetadata.upsertIdentityMetadata({ reference: rt.address, value });
    assert.equal(upserted.ok, true, `upsert failed: ${String(upserted.val)}`);
    assert.ok(upserted instanceof lib.Ok, "results are the package's own Ok");
    assert.deepEqual(upserted.val.value, value);
    const missing = await rt.identityMetadata.getIdentityMetadata({ reference: rt.address, key: "none" });
    assert.ok(missing instanceof lib.Err);
    assert.equal(missing.val.code, "error.runtime.identityMetadata.notFound");
  } finally {
    await rt.close();
    await backbone.close();
  }
  // The testing kit, as an integrator's test uses it.
  const world = await testing.createTestWorld({ identities: ["shop", "customer"], connected: true });
  try {
    testing.assertOk(await world.runtime("customer").identityDeletion.initiateIdentityDeletionProcess());
    await world.advance({ days: 15 });
    assert.equal(world.events("shop").of("transport.peerDeleted").length, 1);
    const shop = world.runtime("shop");
    const missing = await shop.identityMetadata.getIdentityMetadata({ reference: shop.address, key: "none" });
    testing.assertErr(missing, "error.runtime.identityMetadata.notFound");
    assert.throws(() => testing.assertOk(missing), /got Err error\.runtime\.identityMetadata\.notFound/);
  } finally {
    await world.close();
  }
  const passed = await testing.runStorageAdapterComplianceSuite(lib.lokiStorage);
  assert.ok(passed.length > 0, "the compliance suite ran cases");
}

module.exports = { checkExports, checkLiveRuntime };
