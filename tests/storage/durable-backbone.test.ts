import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRuntime, LocalBackbone, ManualClock, sqliteStorage } from "../../src/index";
import { ok, START } from "../support";

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "identity-runtime-durable-"));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const file = (name: string) => sqliteStorage({ filename: join(directory, `${name}.db`) });

describe("a LocalBackbone on durable storage", () => {
  test("applies on start what became due while it was down: the grace period ended, the peer is told", async () => {
    const clock = new ManualClock(START);
    const backboneStorage = file("backbone");
    const backbone = new LocalBackbone({ clock, storage: backboneStorage });
    const orgStorage = file("org");
    const beaStorage = file("bea");
    const org = await createRuntime({ backbone, storage: orgStorage });
    const bea = await createRuntime({ backbone, storage: beaStorage });
    const template = ok(await org.relationships.createOwnRelationshipTemplate());
    const { id } = ok(await bea.relationships.createRelationship({ templateId: template.id }));
    ok(await org.relationships.acceptRelationship({ relationshipId: id }));
    const process = ok(
      await bea.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 1 }),
    );
    await Promise.all([org.close(), bea.close()]);
    await backbone.close();
    await Promise.all([backboneStorage.close(), orgStorage.close(), beaStorage.close()]);

    // Down for two days: the grace period ends while nothing runs.
    clock.advance({ days: 2 });
    const reopened = new LocalBackbone({ clock, storage: file("backbone"), runsDueJobsItself: true });
    const orgAgain = await createRuntime({ backbone: reopened, storage: file("org") });
    expect(orgAgain.address).toBe(org.address);
    const seen = ok(await orgAgain.relationships.getRelationship({ id }));
    expect(seen.status).toBe("DeletionProposed");
    expect(seen.peerDeletionInfo).toStrictEqual({
      deletionStatus: "Deleted",
      deletionDate: process.gracePeriodEndsAt,
    });
    expect(seen.auditLog.at(-1)?.reason).toBe("DecompositionDueToIdentityDeletion");
    await orgAgain.close();
    await reopened.close();
  });

  test("keeps identities, templates, relationships and held Notifications across a restart", async () => {
    const clock = new ManualClock(START);
    const backbone = new LocalBackbone({ clock, storage: file("backbone") });
    const org = await createRuntime({ backbone, storage: file("org") });
    const bea = await createRuntime({ backbone, storage: file("bea") });
    const template = ok(
      await org.relationships.createOwnRelationshipTemplate({ content: { welcome: true } }),
    );
    const { id } = ok(await bea.relationships.createRelationship({ templateId: template.id }));
    ok(await org.relationships.acceptRelationship({ relationshipId: id }));
    ok(await bea.identityDeletion.initiateIdentityDeletionProcess());
    ok(
      await org.messages.sendMessage({
        recipients: [bea.address],
        content: { "@type": "Notification", n: 1 },
      }),
    );
    await Promise.all([org.close(), bea.close()]);
    await backbone.close();

    const reopened = new LocalBackbone({ clock, storage: file("backbone") });
    const beaAgain = await createRuntime({ backbone: reopened, storage: file("bea") });
    expect(ok(await reopened.getRelationshipTemplate(beaAgain.address, template.id)).content).toStrictEqual({
      welcome: true,
    });
    // The held Notification survived the restart and arrives when Bea cancels.
    expect(ok(await beaAgain.messages.getMessages())).toEqual([]);
    ok(await beaAgain.identityDeletion.cancelIdentityDeletionProcess());
    expect(ok(await beaAgain.messages.getMessages()).map((m) => m.content)).toEqual([
      { "@type": "Notification", n: 1 },
    ]);
    await beaAgain.close();
    await reopened.close();
  });
});
