import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createRuntime,
  LocalBackbone,
  lokiStorage,
  ManualClock,
  sqliteStorage,
  StorageFailure,
} from "../../src/index";
import type { StorageAdapter } from "../../src/index";
import { delegating, ok, START } from "../support";

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

/** Org and Bea, each a runtime on `backbone`, with an Active relationship between them. */
async function connectedOn(backbone: LocalBackbone) {
  const org = await createRuntime({ backbone });
  const bea = await createRuntime({ backbone });
  const template = ok(await org.relationships.createOwnRelationshipTemplate());
  const { id } = ok(await bea.relationships.createRelationship({ templateId: template.id }));
  ok(await org.relationships.acceptRelationship({ relationshipId: id }));
  return { org, bea, id };
}

describe("a LocalBackbone whose storage fails", () => {
  /** A storage whose next commit touching `collection` fails once, before writing anything. */
  function failingOnce(collection: string) {
    const storage = lokiStorage();
    let armed = false;
    const adapter: StorageAdapter = delegating(storage, (target) => ({
      commit: (changes) => {
        if (armed && changes.some((change) => change.kind !== "notify" && change.collection === collection)) {
          armed = false;
          return Promise.reject(new StorageFailure("the disk is full"));
        }
        return target.commit(changes);
      },
    }));
    return { adapter, arm: () => (armed = true) };
  }

  test("an expiry that cannot be written is neither half-applied nor lost: the next run applies it whole", async () => {
    const clock = new ManualClock(START);
    const failing = failingOnce("backbone/relationships");
    const reported: unknown[] = [];
    const backbone = new LocalBackbone({
      clock,
      storage: failing.adapter,
      onDeliveryError: (e) => reported.push(e),
    });
    const { org, bea, id } = await connectedOn(backbone);
    ok(await bea.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 1 }));
    clock.advance({ days: 2 });

    failing.arm();
    await backbone.runDueJobs(); // resolves: the failure is reported, not thrown
    expect(reported).toHaveLength(1);
    expect(ok(await org.relationships.getRelationship({ id })).peerDeletionInfo?.deletionStatus).toBe(
      "ToBeDeleted",
    );

    await backbone.runDueJobs();
    const seen = ok(await org.relationships.getRelationship({ id }));
    expect(seen.status).toBe("DeletionProposed");
    expect(seen.peerDeletionInfo?.deletionStatus).toBe("Deleted");
    await Promise.all([org.close(), bea.close()]);
    await backbone.close();
  });

  test("a cancellation that cannot be written changes nothing, and the held Notifications stay held", async () => {
    const clock = new ManualClock(START);
    const failing = failingOnce("backbone/identityDeletionProcesses");
    const backbone = new LocalBackbone({ clock, storage: failing.adapter });
    const { org, bea, id } = await connectedOn(backbone);
    ok(await bea.identityDeletion.initiateIdentityDeletionProcess());
    ok(await org.messages.sendMessage({ recipients: [bea.address], content: { "@type": "Notification" } }));

    failing.arm();
    const refused = await bea.identityDeletion.cancelIdentityDeletionProcess();
    expect(refused.err && refused.val.code).toBe("error.runtime.storage");
    expect(ok(await org.relationships.getRelationship({ id })).peerDeletionInfo?.deletionStatus).toBe(
      "ToBeDeleted",
    );
    expect(ok(await bea.messages.getMessages())).toEqual([]);

    ok(await bea.identityDeletion.cancelIdentityDeletionProcess());
    expect(ok(await org.relationships.getRelationship({ id }))).not.toHaveProperty("peerDeletionInfo");
    expect(ok(await bea.messages.getMessages())).toHaveLength(1);
    await Promise.all([org.close(), bea.close()]);
    await backbone.close();
  });

  test("running its jobs itself, it tries a failed run again later instead of giving up", async () => {
    const clock = new ManualClock(START);
    const failing = failingOnce("backbone/relationships");
    const backbone = new LocalBackbone({
      clock,
      storage: failing.adapter,
      runsDueJobsItself: true,
      onDeliveryError: () => {},
    });
    const { org, bea } = await connectedOn(backbone);
    ok(await bea.identityDeletion.initiateIdentityDeletionProcess({ lengthOfGracePeriodInDays: 1 }));
    clock.advance({ days: 2 });
    failing.arm();
    await backbone.runDueJobs(); // fails once; the Backbone schedules a retry by itself
    const told = new Promise<string>((resolve) =>
      org.events.on("transport.peerDeleted", (e) => resolve(e.data.status)),
    );
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("no retry"), 3_000).unref());
    expect(await Promise.race([told, timeout])).toBe("DeletionProposed");
    await Promise.all([org.close(), bea.close()]);
    await backbone.close();
  });
});
