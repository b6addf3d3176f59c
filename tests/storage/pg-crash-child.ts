// Run by postgres-storage.test.ts (`node --import tsx pg-crash-child.ts <schema> <address> <run>`, with
// DATABASE_URL), which kills it with SIGKILL at a random moment. It reopens the identity the schema holds and
// upserts IdentityMetadata without pause from 64 writers at once (so groups of upserts are in flight when it
// dies), printing `ack <i>` once each upsert has resolved Ok: the parent checks that none of those is lost.
import { createRuntime, LocalBackbone, postgresStorage } from "../../src/index.js";
import { upsertForever } from "./upsert-forever.js";

const [schema, address, run] = process.argv.slice(2);
const connectionString = process.env["DATABASE_URL"];
if (schema === undefined || address === undefined || run === undefined || connectionString === undefined) {
  throw new Error("usage: DATABASE_URL=… pg-crash-child.ts <schema> <address> <run>");
}

const runtime = await createRuntime({
  backbone: new LocalBackbone({ storage: postgresStorage({ connectionString, schema }) }),
  storage: postgresStorage({ connectionString, schema }),
  address,
});
process.stdout.write("ready\n");

await upsertForever(runtime, 0, (i) => ({ key: `run${run}-k${i}`, value: { run: Number(run), i } }));
