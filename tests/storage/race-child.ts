// One racer of tests/storage/races.ts (`node --import tsx race-child.ts <schema>`, with DATABASE_URL): a process
// with its own LocalBackbone and runtime storage on the schema, as a second server would have. It reads one
// JSON command per line on stdin and answers each with one line on stdout:
// - {"prepare": {"address": …}} opens (once) a runtime of that identity here, then answers `prepared`;
// - {"go": {"op": …, "address": …, …}} runs the operation at once and answers `result {"code": …}`, where the
//   code is "Ok" or the error code the call resolved to;
// - {"watch": {"address": …}} opens a runtime of that identity here and answers `watching`; from then on each
//   peer-deletion event it publishes is printed as `event <name>` (a line that answers nothing).
// The parent prepares every racer of a round, then sends all of them `go` together.
import { createInterface } from "node:readline";
import { createRuntime, LocalBackbone, postgresStorage } from "../../src/index.js";
import type { Result, Runtime, StorageAdapter, StorageChange } from "../../src/index.js";
import { delegating } from "../support.js";

const [schema] = process.argv.slice(2);
const connectionString = process.env["DATABASE_URL"];
if (schema === undefined || connectionString === undefined) {
  throw new Error("usage: DATABASE_URL=… race-child.ts <schema>");
}

/** What a racer can be told to do, after `delayMs` (default 0). */
export type RaceOp = { delayMs?: number } & (
  | { op: "relate"; address: string; templateId: string }
  | { op: "approve" | "reject" | "cancel"; address: string }
  | { op: "decompose"; address: string; relationshipId: string }
  | { op: "accept"; address: string; relationshipId: string }
  /** `count` upserts (default 1) about `reference`, each `spacingMs` after the one before, keys "0", "1", … */
  | { op: "upsert"; address: string; reference: string; count?: number; spacingMs?: number }
);

const PEER_DELETION_EVENTS = [
  "transport.peerToBeDeleted",
  "transport.peerDeletionCancelled",
  "transport.peerDeleted",
] as const;

/** A write to a collection whose name ends with `suffix` never finishes: the process says `hanging` and waits. */
function hangingOn(suffix: string | undefined, storage: StorageAdapter): StorageAdapter {
  const hangs = (changes: readonly StorageChange[]): boolean =>
    suffix !== undefined &&
    changes.some((change) => change.kind !== "notify" && change.collection.endsWith(suffix));
  return delegating(storage, (target) => ({
    commit: (changes) => {
      if (!hangs(changes)) return target.commit(changes);
      process.stdout.write("hanging\n");
      return new Promise<number[]>(() => undefined);
    },
  }));
}

// With HANG_BACKBONE_ON set, the Backbone hangs inside its transaction (a due job's, say), to be killed there.
const backboneStorage = hangingOn(
  process.env["HANG_BACKBONE_ON"],
  postgresStorage({ connectionString, schema }),
);
// With HANG_ON set, a runtime's write to a collection whose name ends with it never finishes: the process
// prints `hanging` and waits there, to be killed between the Backbone's commit and the runtime's own.
const storage = hangingOn(process.env["HANG_ON"], postgresStorage({ connectionString, schema }));
const backbone = new LocalBackbone({ storage: backboneStorage, onDeliveryError: () => undefined });
const runtimes = new Map<string, Runtime>();

async function runtimeOf(address: string): Promise<Runtime> {
  let runtime = runtimes.get(address);
  if (runtime === undefined) {
    runtime = await createRuntime({ backbone, storage, address });
    runtimes.set(address, runtime);
  }
  return runtime;
}

async function run(command: RaceOp): Promise<Result<unknown, { code: string }>> {
  const runtime = await runtimeOf(command.address);
  if (command.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, command.delayMs));
  switch (command.op) {
    case "relate":
      return runtime.relationships.createRelationship({ templateId: command.templateId });
    case "approve":
      return runtime.identityDeletion.approveIdentityDeletionProcess();
    case "reject":
      return runtime.identityDeletion.rejectIdentityDeletionProcess();
    case "cancel":
      return runtime.identityDeletion.cancelIdentityDeletionProcess();
    case "accept":
      return runtime.relationships.acceptRelationship({ relationshipId: command.relationshipId });
    case "decompose":
      return runtime.relationships.decomposeRelationship({ relationshipId: command.relationshipId });
    case "upsert": {
      const { count = 1, spacingMs = 0 } = command;
      const results = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, i * spacingMs));
          return runtime.identityMetadata.upsertIdentityMetadata({
            reference: command.reference,
            key: String(i),
            value: { pid: process.pid },
          });
        }),
      );
      // One code for all: the first that is not Ok, if any.
      return results.find((result) => result.err) ?? (results[0] as (typeof results)[number]);
    }
  }
}

const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
for await (const line of lines) {
  const command = JSON.parse(line) as {
    prepare?: { address: string };
    go?: RaceOp;
    watch?: { address: string };
  };
  if (command.watch !== undefined) {
    const runtime = await runtimeOf(command.watch.address);
    for (const name of PEER_DELETION_EVENTS) {
      runtime.events.on(name, () => void process.stdout.write(`event ${name}\n`));
    }
    process.stdout.write("watching\n");
  } else if (command.prepare !== undefined) {
    await runtimeOf(command.prepare.address);
    process.stdout.write("prepared\n");
  } else if (command.go !== undefined) {
    const result = await run(command.go);
    process.stdout.write(`result ${JSON.stringify({ code: result.ok ? "Ok" : result.val.code })}\n`);
  }
}
for (const runtime of runtimes.values()) await runtime.close();
await backbone.close();
await storage.close();
await backboneStorage.close();
