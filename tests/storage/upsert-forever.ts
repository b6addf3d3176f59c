// What the crash children share: upserts of IdentityMetadata about the own identity without pause, from 64
// writers at once (so group commits are in flight when the child is killed), printing `ack <i>` once each has
// resolved Ok: the parent checks that none of those is lost.
import type { JsonValue, Runtime } from "../../src/index.js";

const WRITERS = 64;

export async function upsertForever(
  runtime: Runtime,
  first: number,
  slot: (i: number) => { key: string; value: JsonValue },
): Promise<never> {
  let next = first;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (;;) {
        const i = next++;
        const result = await runtime.identityMetadata.upsertIdentityMetadata({
          reference: runtime.address,
          ...slot(i),
        });
        if (result.err) throw new Error(result.val.message);
        // Pipes are written synchronously on Linux: the line is out before the next write starts.
        process.stdout.write(`ack ${i}\n`);
      }
    }),
  );
  throw new Error("upsertForever: the writers stopped");
}
