// `npm run demo`: a narrated walk-through of identity-runtime on its embedded default (LocalBackbone, in memory).
import { createRuntime, LocalBackbone, ManualClock } from "../src/index.js";
import type { Result, RuntimeError } from "../src/index.js";

const short = (address: string) => `…${address.slice(-6)}`;
let step = 0;
function say(text: string): void {
  console.log(`\n${++step}. ${text}`);
}
function show(label: string, value: unknown): void {
  console.log(`   ${label}: ${JSON.stringify(value)}`);
}
/** The demo expects every call to succeed except where it says otherwise. */
function expectOk<T>(result: Result<T, RuntimeError>): T {
  if (result.err) throw new Error(`unexpected ${result.val.code}: ${result.val.message}`);
  return result.val;
}
function expectErr<T>(result: Result<T, RuntimeError>): RuntimeError {
  if (result.ok) throw new Error("expected an error");
  return result.val;
}

const clock = new ManualClock(new Date("2030-01-01T09:00:00.000Z"));
const backbone = new LocalBackbone({ clock });

say("Two identities on one embedded Backbone: an organisation (Org) and a person (Ada).");
const org = await createRuntime({ backbone });
const ada = await createRuntime({ backbone });
show("Org", org.address);
show("Ada", ada.address);
org.events.on("transport.relationshipChanged", (event) =>
  console.log(`   [Org event] relationshipChanged → ${event.data.status}`),
);

say("Org stores metadata about a stranger: refused, Ada is not familiar yet.");
const refused = expectErr(
  await org.identityMetadata.upsertIdentityMetadata({ reference: ada.address, value: 1 }),
);
show("error", refused.code);

say("Org creates a relationship template; Ada creates a relationship from it; Org accepts.");
const template = expectOk(
  await org.relationships.createOwnRelationshipTemplate({ maxNumberOfAllocations: 1 }),
);
const pending = expectOk(await ada.relationships.createRelationship({ templateId: template.id }));
const active = expectOk(await org.relationships.acceptRelationship({ relationshipId: pending.id }));
show("relationship", { id: active.id, peer: short(active.peer), status: active.status });

say('Org upserts metadata about Ada: one record without a key, one under the key "crm".');
const plain = expectOk(
  await org.identityMetadata.upsertIdentityMetadata({ reference: ada.address, value: { segment: "beta" } }),
);
const crm = expectOk(
  await org.identityMetadata.upsertIdentityMetadata({
    reference: ada.address,
    key: "crm",
    value: { customerId: 4711, tags: ["vip"], note: null },
  }),
);
show("no key", plain);
show("key crm", crm);

say("Upserting the same slot again updates it in place: same id, new value.");
const updated = expectOk(
  await org.identityMetadata.upsertIdentityMetadata({
    reference: ada.address,
    key: "crm",
    value: { customerId: 4712 },
  }),
);
show("same id", updated.id === crm.id);
show("value", updated.value);

say('Reading slots: the no-key slot and the "crm" slot are different; an unknown key is notFound.');
show("no key", expectOk(await org.identityMetadata.getIdentityMetadata({ reference: ada.address })).value);
show(
  "crm",
  expectOk(await org.identityMetadata.getIdentityMetadata({ reference: ada.address, key: "crm" })).value,
);
show(
  'key ""',
  expectErr(await org.identityMetadata.getIdentityMetadata({ reference: ada.address, key: "" })).code,
);

say('Deleting the no-key slot leaves the "crm" slot alone.');
expectOk(await org.identityMetadata.deleteIdentityMetadata({ reference: ada.address }));
show(
  "no key now",
  expectErr(await org.identityMetadata.getIdentityMetadata({ reference: ada.address })).code,
);
show(
  "crm still",
  expectOk(await org.identityMetadata.getIdentityMetadata({ reference: ada.address, key: "crm" })).value,
);

say("A malformed request is a validation error naming the property, and changes nothing.");
const invalid = expectErr(
  await org.identityMetadata.upsertIdentityMetadata({ reference: "did:e:nowhere", key: "crm", value: 1 }),
);
show(invalid.code, invalid.message);

say("Org terminates the relationship and decomposes it: the metadata about Ada goes with it.");
expectOk(await org.relationships.terminateRelationship({ relationshipId: active.id }));
expectOk(await org.relationships.decomposeRelationship({ relationshipId: active.id }));
show(
  "crm after decomposition",
  expectErr(await org.identityMetadata.getIdentityMetadata({ reference: ada.address, key: "crm" })).code,
);
show("Ada's side", expectOk(await ada.relationships.getRelationship({ id: active.id })).status);

await org.close();
await ada.close();
await backbone.close();
console.log("\nDone: every step behaved as documented.");
