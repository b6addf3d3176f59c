// One process of the cluster benchmark (cluster.ts), with its own LocalBackbone and runtime storage on one
// PostgreSQL schema (the Backbone's), its runtimes in a schema of its own. Run as:
// node --import tsx cluster-child.ts <backbone schema> <runtime schema> <mode> <arg>, with DATABASE_URL.
// - relate <pairs>: that many pairs of identities; on `go`, each requestor creates a relationship from its
//   owner's template and revokes it again, over and over, until `stop`; then prints `done <creations>`;
// - message <pairs>: that many pairs with an Active relationship; each sends messages until `stop`;
// - receive <address>: serves that identity and prints `got <n> <epoch ms>` for each message it receives.
import { createInterface } from "node:readline";
import { createRuntime, LocalBackbone, postgresStorage } from "identity-runtime";
import type { Runtime } from "identity-runtime";

const [schema = "", runtimeSchema = "", mode = "", arg = ""] = process.argv.slice(2);
const connectionString = process.env["DATABASE_URL"] ?? "";
// One Backbone schema for all; each process keeps its runtimes' records in a schema of its own, so that its
// new runtimes are identities of its own (without an address, a runtime reopens one the storage holds).
const backboneStorage = postgresStorage({ connectionString, schema });
const storage = postgresStorage({ connectionString, schema: runtimeSchema });
const backbone = new LocalBackbone({ storage: backboneStorage });
const now = (): number => performance.timeOrigin + performance.now();

async function pair(accepted: boolean): Promise<[Runtime, Runtime, string]> {
  const owner = await createRuntime({ backbone, storage });
  const requestor = await createRuntime({ backbone, storage });
  const template = (await owner.relationships.createOwnRelationshipTemplate()).unwrap();
  if (!accepted) return [owner, requestor, template.id];
  const { id } = (await requestor.relationships.createRelationship({ templateId: template.id })).unwrap();
  (await owner.relationships.acceptRelationship({ relationshipId: id })).unwrap();
  return [owner, requestor, template.id];
}

const commands = createInterface({ input: process.stdin });
const lines = commands[Symbol.asyncIterator]();
const next = async (): Promise<string> => String((await lines.next()).value);

if (mode === "receive") {
  const runtime = await createRuntime({ backbone, storage, address: arg });
  runtime.events.on("transport.messageReceived", (event) => {
    process.stdout.write(`got ${String((event.data.content as { n: number }).n)} ${now()}\n`);
  });
  process.stdout.write("ready\n");
  await next();
} else {
  const pairs = await Promise.all(Array.from({ length: Number(arg) }, () => pair(mode === "message")));
  process.stdout.write("ready\n");
  await next();
  let stopped = false;
  let count = 0;
  const loops = pairs.map(async ([owner, requestor, templateId]) => {
    while (!stopped) {
      if (mode === "relate") {
        const created = (await requestor.relationships.createRelationship({ templateId })).unwrap();
        count++;
        (await requestor.relationships.revokeRelationship({ relationshipId: created.id })).unwrap();
      } else {
        const sent = await owner.messages.sendMessage({
          recipients: [requestor.address],
          content: { n: count },
        });
        sent.unwrap();
        count++;
      }
    }
  });
  await next();
  stopped = true;
  await Promise.all(loops);
  process.stdout.write(`done ${count}\n`);
}
process.exit(0);
