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

// ---- Identity deletion --------------------------------------------------------------------------
say("Bea joins and connects to Org. Org keeps metadata about her and listens for her deletion.");
const bea = await createRuntime({ backbone });
const orgTemplate = expectOk(await org.relationships.createOwnRelationshipTemplate());
const beaTemplate = expectOk(await bea.relationships.createOwnRelationshipTemplate());
const toBea = expectOk(await bea.relationships.createRelationship({ templateId: orgTemplate.id }));
expectOk(await org.relationships.acceptRelationship({ relationshipId: toBea.id }));
expectOk(
  await org.identityMetadata.upsertIdentityMetadata({ reference: bea.address, value: { plan: "gold" } }),
);
for (const name of [
  "transport.peerToBeDeleted",
  "transport.peerDeletionCancelled",
  "transport.peerDeleted",
] as const) {
  org.events.on(name, (event) =>
    console.log(`   [Org event] ${name}: ${JSON.stringify(event.data.peerDeletionInfo ?? null)}`),
  );
}
bea.events.on("transport.identityDeletionProcessStatusChanged", (event) =>
  console.log(`   [Bea event] identityDeletionProcessStatusChanged → ${event.data.status}`),
);

say("Bea starts deleting her identity herself: Approved at once, 14 days of grace.");
const initiated = expectOk(await bea.identityDeletion.initiateIdentityDeletionProcess());
show("grace period ends", initiated.gracePeriodEndsAt);

say("While Bea is in deletion, Org may only send her Notifications (they wait on the Backbone).");
show(
  "a mail",
  expectErr(await org.messages.sendMessage({ recipients: [bea.address], content: { body: "Hi" } })).code,
);
expectOk(
  await org.messages.sendMessage({ recipients: [bea.address], content: { "@type": "Notification", n: 1 } }),
);
show("messages Bea has", expectOk(await bea.messages.getMessages()).length);

say("Bea changes her mind within the grace period: the held Notification reaches her.");
const cancelled = expectOk(await bea.identityDeletion.cancelIdentityDeletionProcess());
show("process", { status: cancelled.status, cancelledAt: cancelled.cancelledAt });
show(
  "messages Bea has",
  expectOk(await bea.messages.getMessages()).map((message) => message.content),
);

say("Later Bea asks support to delete her: the Admin UI starts a process that waits for her approval.");
const started = expectOk(await backbone.admin.startIdentityDeletionProcess(bea.address));
show("waiting until", started.approvalPeriodEndsAt);

say("Bea approves within the approval period: Org is told again, and nobody can use her templates.");
clock.advance({ days: 2 });
const approved = expectOk(await bea.identityDeletion.approveIdentityDeletionProcess());
show("grace period ends", approved.gracePeriodEndsAt);
expectOk(
  await org.messages.sendMessage({ recipients: [bea.address], content: { "@type": "Notification", n: 2 } }),
);
show(
  "a new relationship from Bea's template",
  expectOk(await ada.relationships.canCreateRelationship({ templateId: beaTemplate.id })).code,
);

say("The grace period passes (14 days on the ManualClock) and the Backbone runs its due jobs.");
clock.advance({ days: 14, seconds: 1 });
await backbone.runDueJobs();
show("Bea deleted", expectOk(await bea.identityDeletion.checkIfIdentityIsDeleted()));
show(
  "Bea may not act",
  expectErr(await bea.identityMetadata.upsertIdentityMetadata({ reference: bea.address, value: 1 })).code,
);
const orgView = expectOk(await org.relationships.getRelationship({ id: toBea.id }));
show("Org's relationship", { status: orgView.status, reason: orgView.auditLog.at(-1)?.reason });
show(
  "messages Bea has (the second Notification was dropped)",
  expectOk(await bea.messages.getMessages()).length,
);
show(
  "Org's metadata about Bea",
  expectOk(await org.identityMetadata.getIdentityMetadata({ reference: bea.address })).value,
);

say("Org decomposes the relationship: only now does its metadata about Bea go. Bea erases her local data.");
expectOk(await org.relationships.decomposeRelationship({ relationshipId: toBea.id }));
show("metadata", expectErr(await org.identityMetadata.getIdentityMetadata({ reference: bea.address })).code);
expectOk(await bea.eraseLocalData());

await org.close();
await ada.close();
await backbone.close();
console.log("\nDone: every step behaved as documented.");
