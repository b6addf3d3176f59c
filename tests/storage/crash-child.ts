// Run by sqlite-storage.test.ts (`node --import tsx crash-child.ts <file> <first i>`), which kills it with SIGKILL.
// It opens the identity the file holds (or creates one on the first run) and upserts IdentityMetadata without
// pause from 64 writers at once (so group commits are in flight when it dies), printing `ack <i>` once each
// upsert has resolved Ok: the parent checks that none of those is lost.
import { createRuntime, LocalBackbone, sqliteStorage } from "../../src/index.js";
import { upsertForever } from "./upsert-forever.js";

const [filename, first] = process.argv.slice(2);
if (filename === undefined || first === undefined) throw new Error("usage: crash-child.ts <file> <first i>");

// The runtime and its LocalBackbone share the one file (their collections are apart).
const storage = sqliteStorage({ filename });
const runtime = await createRuntime({ backbone: new LocalBackbone({ storage }), storage });
process.stdout.write(`address ${runtime.address}\n`);

await upsertForever(runtime, Number(first), (i) => ({ key: `k${i}`, value: { i } }));
