// The measurements beyond the four operations: memory, start-up, and the costs that must not grow with
// unrelated data (familiarity check, decomposition) or grow more than linearly (deletion fan-out).
import { execFileSync } from "node:child_process";
import { createRuntime, LocalBackbone, ManualClock } from "identity-runtime";
import type { Runtime } from "identity-runtime";
import { median, timed } from "./measure.js";
import { keyFor, valueFor } from "./subjects.js";

const here = new URL(".", import.meta.url).pathname;

// Children run the built package too: the run-time tsconfig does not map the package name to src.
const runTimeTsconfig = new URL("../tsconfig.run.json", import.meta.url).pathname;

function child(args: string[]): string {
  const env = { ...process.env, TSX_TSCONFIG_PATH: runTimeTsconfig };
  return execFileSync(process.execPath, args, { cwd: here, encoding: "utf8", env }).trim();
}

/** Heap bytes per stored record after GC, measured in a fresh process each. */
function heapPerRecord(n: number): { n: number; facadeBytes: number; mapBytes: number; ratio: number } {
  const run = (subject: string) =>
    Number(child(["--expose-gc", "--import", "tsx", "heap-child.ts", subject, String(n)]));
  const facadeBytes = Math.round(median([run("facade"), run("facade"), run("facade")]));
  const mapBytes = Math.round(median([run("map"), run("map"), run("map")]));
  return { n, facadeBytes, mapBytes, ratio: round(facadeBytes / mapBytes) };
}

/** Milliseconds to require the package (and lokijs alone), and to the first upsert, in fresh processes. */
function startUp(): { requireMs: number; requireLokiMs: number; ratio: number; firstUpsertMs: number } {
  const time = (script: string) => {
    const samples = Array.from({ length: 7 }, () => Number(child(["-e", script])));
    return round(median(samples));
  };
  const clock = "const t=process.hrtime.bigint();";
  const print = "console.log(Number(process.hrtime.bigint()-t)/1e6)";
  const requireMs = time(`${clock}require("identity-runtime");${print}`);
  const requireLokiMs = time(`${clock}require("lokijs");${print}`);
  const firstUpsertMs = time(
    `${clock}const {createRuntime}=require("identity-runtime");createRuntime().then(async r=>{` +
      `const u=await r.identityMetadata.upsertIdentityMetadata({reference:r.address,value:{a:1}});` +
      `if(!u.ok)throw new Error("upsert failed");${print};await r.close()})`,
  );
  return { requireMs, requireLokiMs, ratio: round(requireMs / requireLokiMs), firstUpsertMs };
}

/** A runtime whose template `count` identities used; the peers have no runtime of their own (cheap). */
async function runtimeWithPeers(count: number) {
  const backbone = new LocalBackbone({ clock: new ManualClock() });
  const runtime = await createRuntime({ backbone });
  const template = (await runtime.relationships.createOwnRelationshipTemplate()).unwrap();
  const peers: { address: string; relationshipId: string }[] = [];
  for (let i = 0; i < count; i++) {
    const address = await backbone.createIdentity();
    const created = (await backbone.createRelationship(address, template.id)).unwrap();
    (await runtime.relationships.acceptRelationship({ relationshipId: created.id })).unwrap();
    peers.push({ address, relationshipId: created.id });
  }
  return {
    runtime,
    peers,
    close: async () => {
      await runtime.close();
      await backbone.close();
    },
  };
}

/** Upserts per second about one peer, with `relationships` relationships stored. */
async function familiarity(relationships: number): Promise<number> {
  const world = await runtimeWithPeers(relationships);
  const reference = (world.peers[0] as { address: string }).address;
  const samples: number[] = [];
  for (let repetition = 0; repetition < 5; repetition++) {
    const seconds = await timed(async () => {
      for (let i = 0; i < 2_000; i++) {
        (
          await world.runtime.identityMetadata.upsertIdentityMetadata({
            reference,
            key: keyFor(i),
            value: valueFor(i),
          })
        ).unwrap();
      }
    });
    samples.push(2_000 / seconds);
  }
  await world.close();
  return Math.round(median(samples));
}

/**
 * A peer that created and revoked `cycles` relationships with the runtime: upserts per second about it, and
 * milliseconds per create-and-revoke cycle over the last 200 cycles. Neither may grow with the history.
 */
async function peerHistory(cycles: number): Promise<{ upsertsPerSec: number; msPerCycle: number }> {
  const backbone = new LocalBackbone({ clock: new ManualClock() });
  const runtime = await createRuntime({ backbone });
  const peer = await backbone.createIdentity();
  const template = (await runtime.relationships.createOwnRelationshipTemplate()).unwrap();
  const cycle = async () => {
    const created = (await backbone.createRelationship(peer, template.id)).unwrap();
    (await backbone.changeRelationship(peer, created.id, "revoke")).unwrap();
  };
  const timedCycles = Math.min(200, cycles);
  for (let i = 0; i < cycles - timedCycles; i++) await cycle();
  collectGarbage();
  const cycleSeconds = await timed(async () => {
    for (let i = 0; i < timedCycles; i++) await cycle();
  });
  const samples: number[] = [];
  for (let repetition = 0; repetition < 5; repetition++) {
    const seconds = await timed(async () => {
      for (let i = 0; i < 1_000; i++) {
        const upserted = await runtime.identityMetadata.upsertIdentityMetadata({
          reference: peer,
          key: keyFor(i),
          value: valueFor(i),
        });
        upserted.unwrap();
      }
    });
    samples.push(1_000 / seconds);
  }
  await runtime.close();
  await backbone.close();
  return {
    upsertsPerSec: Math.round(median(samples)),
    msPerCycle: round((cycleSeconds * 1_000) / timedCycles),
  };
}

/**
 * Milliseconds to decompose one peer holding 100 records, while `total` records about `peers` peers are stored:
 * the decomposed peers' records stay the same, only the unrelated data grows.
 */
async function decomposition(peers: number, total: number): Promise<number> {
  const perPeer = 100;
  const measured = 5;
  const world = await runtimeWithPeers(peers);
  const { identityMetadata, relationships } = world.runtime;
  const upsert = async (index: number, key: number) => {
    const reference = (world.peers[index] as { address: string }).address;
    (
      await identityMetadata.upsertIdentityMetadata({ reference, key: keyFor(key), value: valueFor(key) })
    ).unwrap();
  };
  for (let peer = 0; peer < measured; peer++) for (let i = 0; i < perPeer; i++) await upsert(peer, i);
  const others = peers - measured;
  for (let i = 0; i < total - measured * perPeer; i++) await upsert(measured + (i % others), i);
  const samples: number[] = [];
  for (const { relationshipId } of world.peers.slice(0, measured)) {
    (await relationships.terminateRelationship({ relationshipId })).unwrap();
    collectGarbage();
    samples.push(
      1_000 *
        (await timed(async () => (await relationships.decomposeRelationship({ relationshipId })).unwrap())),
    );
  }
  await world.close();
  return round(median(samples));
}

/** Milliseconds from initiating a deletion until every one of `count` peer runtimes holds its peerDeletionInfo. */
async function fanOut(count: number): Promise<number> {
  const backbone = new LocalBackbone({ clock: new ManualClock() });
  const deleting = await createRuntime({ backbone });
  const template = (await deleting.relationships.createOwnRelationshipTemplate()).unwrap();
  const peers: Runtime[] = [];
  for (let i = 0; i < count; i++) {
    const peer = await createRuntime({ backbone });
    const { id } = (await peer.relationships.createRelationship({ templateId: template.id })).unwrap();
    (await deleting.relationships.acceptRelationship({ relationshipId: id })).unwrap();
    peers.push(peer);
  }
  // Three rounds (a cancel in between tells every peer again): one sample would be at the mercy of a GC.
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    collectGarbage();
    samples.push(
      await timed(async () => {
        (await deleting.identityDeletion.initiateIdentityDeletionProcess()).unwrap();
      }),
    );
    for (const peer of peers) {
      const [relationship] = (await peer.relationships.getRelationships()).unwrap();
      if (relationship?.peerDeletionInfo?.deletionStatus !== "ToBeDeleted")
        throw new Error("a peer was not told");
    }
    (await deleting.identityDeletion.cancelIdentityDeletionProcess()).unwrap();
  }
  const seconds = median(samples);
  await Promise.all([deleting, ...peers].map((runtime) => runtime.close()));
  await backbone.close();
  return round(seconds * 1_000);
}

/** Collects garbage left by a set-up, so that the timed work does not pay for it (needs --expose-gc). */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export async function measureExtras({ quick }: { quick: boolean }) {
  const large = quick ? 10_000 : 100_000;
  const manyRelationships = quick ? 1_000 : 10_000;
  const [smallFanOut, largeFanOut] = quick ? [100, 1_000] : [1_000, 10_000];
  const decompositionPeers = quick ? 100 : 1_000;

  const heap = heapPerRecord(large);
  const start = startUp();
  const familiarityFew = await familiarity(10);
  const familiarityMany = await familiarity(manyRelationships);
  const historyCycles = quick ? 1_000 : 5_000;
  const shortHistory = await peerHistory(200);
  const longHistory = await peerHistory(historyCycles);
  const decompositionSmall = await decomposition(decompositionPeers, 1_000);
  const decompositionLarge = await decomposition(decompositionPeers, large);
  const fanOutSmall = await fanOut(smallFanOut);
  const fanOutLarge = await fanOut(largeFanOut);
  return {
    heapPerRecord: heap,
    startUp: start,
    familiarity: {
      upsertsPerSecWith10Relationships: familiarityFew,
      [`upsertsPerSecWith${manyRelationships}Relationships`]: familiarityMany,
      ratio: round(familiarityMany / familiarityFew),
    },
    peerHistory: {
      upsertsPerSecAfter200Relationships: shortHistory.upsertsPerSec,
      [`upsertsPerSecAfter${historyCycles}Relationships`]: longHistory.upsertsPerSec,
      upsertRatio: round(longHistory.upsertsPerSec / shortHistory.upsertsPerSec),
      msPerCreateAndRevokeAfter200: shortHistory.msPerCycle,
      [`msPerCreateAndRevokeAfter${historyCycles}`]: longHistory.msPerCycle,
      cycleRatio: round(longHistory.msPerCycle / shortHistory.msPerCycle),
    },
    decomposition: {
      peers: decompositionPeers,
      recordsOfTheDecomposedPeer: 100,
      msWith1000Records: decompositionSmall,
      [`msWith${large}Records`]: decompositionLarge,
      ratio: round(decompositionLarge / decompositionSmall),
    },
    deletionFanOut: {
      [`msTo${smallFanOut}Peers`]: fanOutSmall,
      [`msTo${largeFanOut}Peers`]: fanOutLarge,
      ratio: round(fanOutLarge / fanOutSmall),
    },
  };
}
