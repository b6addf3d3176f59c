// Run by sqlite-storage.test.ts (`node --import tsx crash-child.ts <file> <first i>`), which kills it with SIGKILL.
// It opens the identity the file holds (or creates one on the first run) and upserts IdentityMetadata without
// pause from 64 writers at once (so group commits are in flight when it dies), printing `ack <i>` once each
// upsert has resolved Ok: the parent checks that none of those is lost.
import { createRuntime, LocalBackbone, sqliteStorage } from "../../src/index.js";

const [filename, first] = process.argv.slice(2);
if (filename === undefined || first === undefined) throw new Error("usage: crash-child.ts <file> <first i>");

// The runtime and its LocalBackbone share the one file (their collections are apart).
const storage = sqliteStorage({ filename });
const runtime = await createRuntime({ backbone: new LocalBackbone({ storage }), storage });
process.stdout.write(`address ${runtime.address}\n`);

const WRITERS = 64;
let next = Number(first);
await Promise.all(
  Array.from({ length: WRITERS }, async () => {
    for (;;) {
      const i = next++;
      const result = await runtime.identityMetadata.upsertIdentityMetadata({
        reference: runtime.address,
        key: `k${i}`,
        value: { i },
      });
      if (result.err) throw new Error(result.val.message);
      // Pipes are written synchronously on Linux: the line is out before the next write starts.
      process.stdout.write(`ack ${i}\n`);
    }
  }),
);
