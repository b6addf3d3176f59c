// Four processes on one PostgreSQL database: they open the same identity, upsert the same IdentityMetadata
// slots at once, then race to start its deletion. Run: DATABASE_URL=… npx tsx --tsconfig tsconfig.run.json demo/multi-process.ts
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createRuntime, LocalBackbone, postgresStorage } from "../src/index.js";
import type { StorageAdapter } from "../src/index.js";

const connectionString = process.env["DATABASE_URL"];
if (connectionString === undefined) {
  console.log("Set DATABASE_URL to a PostgreSQL database to run this example.");
  process.exit(0);
}
const schema = process.env["DEMO_SCHEMA"] ?? `demo_${Date.now()}`;
const [role, address] = process.argv.slice(2);
/** A runtime on the shared database, with its Backbone; `close` releases the connections too. */
const open = async () => {
  const storages = [
    postgresStorage({ connectionString, schema }),
    postgresStorage({ connectionString, schema }),
  ];
  const [backboneStorage, runtimeStorage] = storages as [StorageAdapter, StorageAdapter];
  const backbone = new LocalBackbone({ storage: backboneStorage });
  const runtime = await createRuntime({
    backbone,
    storage: runtimeStorage,
    ...(address === undefined ? {} : { address }),
  });
  const close = async () => {
    await runtime.close();
    await backbone.close();
    await Promise.all(storages.map((storage) => storage.close()));
  };
  return { runtime, close };
};

if (role === "worker") {
  // A worker: ten slots, upserted by every worker at the same time; then one try to start the deletion.
  const { runtime, close } = await open();
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
  await close();
} else {
  const { runtime, close } = await open();
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
  // Counted in the database itself: a duplicate could not hide behind a read that returns one record.
  const client = new pg.Client({ connectionString });
  await client.connect();
  const { rows } = await client.query<{ slot: string; records: string }>(
    `SELECT slot, count(*) AS records FROM ${schema}.identity_runtime_records WHERE collection = $1 GROUP BY slot ORDER BY slot`,
    [`${runtime.address}/identityMetadata`],
  );
  for (const { slot, records } of rows) console.log(`${slot}: ${records} record(s)`);
  const processes = (await runtime.identityDeletion.getIdentityDeletionProcesses()).unwrap();
  console.log(`deletion processes: ${processes.length} (${processes.map((p) => p.status).join(", ")})`);
  await close();
  await client.query(`DROP SCHEMA ${schema} CASCADE`);
  await client.end();
}
