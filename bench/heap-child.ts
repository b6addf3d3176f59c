// Prints the heap bytes per stored IdentityMetadata record for one subject, after GC, in a fresh process.
// Run by extras.ts as: node --expose-gc --import tsx heap-child.ts <facade|map> <n>
import { createRuntime, LocalBackbone, ManualClock } from "identity-runtime";
import { keyFor, valueFor } from "./subjects.js";

const [subject, count] = process.argv.slice(2);
const n = Number(count);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

if (subject === "facade") {
  const backbone = new LocalBackbone({ clock: new ManualClock() });
  const runtime = await createRuntime({ backbone });
  // Warm up the collection so that its fixed cost is not counted per record.
  (
    await runtime.identityMetadata.upsertIdentityMetadata({
      reference: runtime.address,
      key: "warm-up",
      value: 1,
    })
  ).unwrap();
  const before = heapUsed();
  for (let i = 0; i < n; i++) {
    (
      await runtime.identityMetadata.upsertIdentityMetadata({
        reference: runtime.address,
        key: keyFor(i),
        value: valueFor(i),
      })
    ).unwrap();
  }
  console.log((heapUsed() - before) / n);
} else {
  const records = new Map<string, { reference: string; key: string; value: unknown }>();
  const reference = "did:e:localhost:dids:0123456789abcdef012345";
  const before = heapUsed();
  for (let i = 0; i < n; i++)
    records.set(`${reference}\u0000${keyFor(i)}`, { reference, key: keyFor(i), value: valueFor(i) });
  console.log((heapUsed() - before) / n);
  if (records.size !== n) throw new Error("lost records");
}
