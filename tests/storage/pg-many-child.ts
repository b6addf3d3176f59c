// Run four at a time by postgres-storage.test.ts (`node --import tsx pg-many-child.ts <mode> <schema> <address>`,
// with DATABASE_URL): each process opens its own LocalBackbone and runtime on the same schema and the same
// identity, prints `ready`, and waits for `go` on stdin so that all of them write at once. Then:
// - upsert: upserts the same IdentityMetadata slots as the others, several rounds, all in flight together;
// - delete: tries to initiate the identity's deletion;
// - start: only then creates its runtime, without an address, on a storage that may be empty (`-` as address);
// - relate: creates a relationship from the template whose id is the fifth argument.
// It prints one JSON line `result {…}` with what the calls resolved to.
import { createRuntime, LocalBackbone, postgresStorage } from "../../src/index.js";

const [mode, schema, address, templateId] = process.argv.slice(2);
const connectionString = process.env["DATABASE_URL"];
const SLOTS = 20;
const ROUNDS = 3;
if (
  !["upsert", "delete", "start", "relate"].includes(mode ?? "") ||
  schema === undefined ||
  address === undefined
) {
  throw new Error(
    "usage: DATABASE_URL=… pg-many-child.ts <upsert|delete|start|relate> <schema> <address|-> [templateId]",
  );
}
if (connectionString === undefined) throw new Error("DATABASE_URL is not set");

const backboneStorage = postgresStorage({ connectionString, schema });
const storage = postgresStorage({ connectionString, schema });
const backbone = new LocalBackbone({ storage: backboneStorage });
const ready = async (): Promise<void> => {
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => {
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      if (chunk.includes("go")) resolve();
    });
  });
  process.stdin.pause();
};
if (mode === "start") await ready();
const runtime = await createRuntime(
  mode === "start" ? { backbone, storage } : { backbone, storage, address },
);
if (mode !== "start") await ready();

const codes: string[] = [];
if (mode === "upsert") {
  for (let round = 0; round < ROUNDS; round++) {
    const results = await Promise.all(
      Array.from({ length: SLOTS }, (_, slot) =>
        runtime.identityMetadata.upsertIdentityMetadata({
          reference: runtime.address,
          // Slot 0 is the "no key" slot.
          ...(slot === 0 ? {} : { key: `slot-${slot}` }),
          value: { pid: process.pid, round, slot },
        }),
      ),
    );
    codes.push(...results.map((result) => (result.ok ? "Ok" : result.val.code)));
  }
} else if (mode === "relate") {
  const result = await runtime.relationships.createRelationship({ templateId: templateId ?? "" });
  codes.push(result.ok ? "Ok" : result.val.code);
} else if (mode === "delete") {
  const result = await runtime.identityDeletion.initiateIdentityDeletionProcess();
  codes.push(result.ok ? "Ok" : result.val.code);
} else {
  codes.push(runtime.address);
}
process.stdout.write(`result ${JSON.stringify({ pid: process.pid, codes })}\n`);

await runtime.close();
await backbone.close();
await storage.close();
await backboneStorage.close();
