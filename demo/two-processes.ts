// Two processes, two identities, one PostgreSQL database as their Backbone: a relationship between them,
// IdentityMetadata about the peer, and a deletion that the peer in the other process hears live.
// Run: DATABASE_URL=… npx tsx --tsconfig tsconfig.run.json demo/two-processes.ts
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createRuntime, LocalBackbone, postgresStorage } from "../src/index.js";

const connectionString = process.env["DATABASE_URL"];
if (connectionString === undefined) {
  console.log("Set DATABASE_URL to a PostgreSQL database to run this example.");
  process.exit(0);
}
const [role = "org", schema = `demo_${Date.now()}`, templateId] = process.argv.slice(2);

// Each process: a LocalBackbone on the shared Backbone schema, and its runtime's records in a schema of its own.
const backboneStorage = postgresStorage({ connectionString, schema });
const runtimeStorage = postgresStorage({ connectionString, schema: `${schema}_${role}` });
const backbone = new LocalBackbone({ storage: backboneStorage });
const runtime = await createRuntime({ backbone, storage: runtimeStorage });
const say = (text: string) => console.log(`[${role} ${process.pid}] ${text}`);

async function closeAll(): Promise<void> {
  await runtime.close();
  await backbone.close();
  await runtimeStorage.close();
  await backboneStorage.close();
}

if (role === "bea") {
  // The second process: Bea creates a relationship from the org's template and listens.
  for (const name of [
    "transport.peerToBeDeleted",
    "transport.peerDeletionCancelled",
    "transport.relationshipChanged",
  ] as const) {
    runtime.events.on(name, (event) => {
      say(`heard ${name}: the relationship is ${event.data.status}`);
      console.log(`event ${name}`);
    });
  }
  const created = await runtime.relationships.createRelationship({ templateId: templateId ?? "" });
  say(`created a relationship from the org's template: ${created.unwrap().status}`);
  console.log(`related ${runtime.address}`);
  // Until the org process says it is done.
  for await (const line of createInterface({ input: process.stdin })) if (line === "done") break;
  await closeAll();
} else {
  const org = runtime;
  say(`org is ${org.address}`);
  const template = (await org.relationships.createOwnRelationshipTemplate()).unwrap();
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "bea", schema, template.id],
    { stdio: ["pipe", "pipe", "inherit"], env: process.env },
  );
  const lines = createInterface({ input: child.stdout });
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  lines.on("line", (line) => {
    if (line.startsWith("[")) console.log(line);
    const index = waiting.findIndex(({ prefix }) => line.startsWith(prefix));
    if (index >= 0) waiting.splice(index, 1)[0]?.resolve(line);
  });
  /** The next line of Bea's process that starts with `prefix`. */
  const next = (prefix: string) => new Promise<string>((resolve) => waiting.push({ prefix, resolve }));

  const bea = (await next("related ")).slice("related ".length);
  const [pending] = (await org.relationships.getRelationships({ peer: bea })).unwrap();
  say(`sees Bea's relationship: ${pending?.status}; accepting it`);
  const accepting = next("event transport.relationshipChanged");
  (await org.relationships.acceptRelationship({ relationshipId: pending?.id ?? "" })).unwrap();
  await accepting;
  (
    await org.identityMetadata.upsertIdentityMetadata({ reference: bea, key: "crm", value: { id: 42 } })
  ).unwrap();
  say("stored IdentityMetadata about Bea (key crm)");

  const toBeDeleted = next("event transport.peerToBeDeleted");
  (await org.identityDeletion.initiateIdentityDeletionProcess()).unwrap();
  say("initiated its own deletion");
  await toBeDeleted;
  const cancelled = next("event transport.peerDeletionCancelled");
  (await org.identityDeletion.cancelIdentityDeletionProcess()).unwrap();
  say("cancelled it");
  await cancelled;

  child.stdin.end("done\n");
  await new Promise((resolve) => child.once("exit", resolve));
  await closeAll();
  const client = new pg.Client({ connectionString });
  await client.connect();
  for (const name of [schema, `${schema}_org`, `${schema}_bea`]) {
    await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  }
  await client.end();
  say("done: the peer in the other process heard each change live, without reconnecting");
}
