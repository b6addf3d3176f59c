// Four processes on one PostgreSQL database: they open the same identity, upsert the same IdentityMetadata
// slots at once, then race to start its deletion. Run: DATABASE_URL=… npx tsx --tsconfig tsconfig.run.json demo/multi-process.ts
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRuntime, LocalBackbone, postgresStorage } from "../src/index.js";

const connectionString = process.env["DATABASE_URL"];
if (connectionString === undefined) {
  console.log("Set DATABASE_URL to a PostgreSQL database to run this example.");
  process.exit(0);
}
const schema = process.env["DEMO_SCHEMA"] ?? `demo_${Date.now()}`;
const [role, address] = process.argv.slice(2);
const open = async () => {
  const backbone = new LocalBackbone({ storage: postgresStorage({ connectionString, schema }) });
  const runtime = await createRuntime({
    backbone,
    storage: postgresStorage({ connectionString, schema }),
    ...(address === undefined ? {} : { address }),
  });
  return { backbone, runtime };
};

if (role === "worker") {
  // A worker: ten slots, upserted by every worker at the same time; then one try to start the deletion.
  const { backbone, runtime } = await open();
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      runtime.identityMetadata.upsertIdentityMetadata({
        reference: runtime.address,
        key: `slot-${i}`,
        value: { by: process.pid },
      }),
    ),
  );
  const initiated = await runtime.identityDeletion.initiateIdentityDeletionProcess();
  console.log(JSON.stringify({ pid: process.pid, initiated: initiated.ok ? "Ok" : initiated.val.code }));
  await runtime.close();
  await backbone.close();
} else {
  const { backbone, runtime } = await open();
  console.log(`identity ${runtime.address} in schema ${schema}; starting 4 workers`);
  const self = fileURLToPath(import.meta.url);
  await Promise.all(
    Array.from(
      { length: 4 },
      () =>
        new Promise<void>((resolve) => {
          const child = spawn(process.execPath, [...process.execArgv, self, "worker", runtime.address], {
            stdio: "inherit",
            env: { ...process.env, DEMO_SCHEMA: schema },
          });
          child.once("exit", () => resolve());
        }),
    ),
  );
  for (let i = 0; i < 10; i++) {
    const slot = await runtime.identityMetadata.getIdentityMetadata({
      reference: runtime.address,
      key: `slot-${i}`,
    });
    console.log(`slot-${i}: last written by ${slot.ok ? JSON.stringify(slot.val.value) : slot.val.code}`);
  }
  const processes = (await runtime.identityDeletion.getIdentityDeletionProcesses()).unwrap();
  console.log(`deletion processes: ${processes.length} (${processes.map((p) => p.status).join(", ")})`);
  await runtime.close();
  await backbone.close();
}
