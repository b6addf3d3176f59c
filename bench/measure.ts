// Timing helpers: deterministic choices, batches timed with hrtime, medians.
import type { Operation, Slot, Subject } from "./subjects.js";
import { keyFor, valueFor } from "./subjects.js";

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A small seeded PRNG (mulberry32), so every subject works on the same slots. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct indexes below `limit`. */
export function sample(next: () => number, limit: number, count: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, limit)) chosen.add(Math.floor(next() * limit));
  return [...chosen];
}

export async function timed(work: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Runs `operation` on each index, awaiting only what is asynchronous (the baselines are synchronous). */
async function each(indexes: readonly number[], run: (index: number) => Promise<void> | void): Promise<void> {
  for (const index of indexes) {
    const pending = run(index);
    if (pending instanceof Promise) await pending;
  }
}

export interface OperationSeries {
  operation: Operation;
  opsPerSec: number[];
}

/**
 * Fills `subject` with `n` records, then measures each operation `repetitions` times on batches of `batch`
 * records: inserts into new slots, updates and gets of random existing ones, deletes of random existing ones
 * (spread over the whole store, not just the newest). Between batches the store goes back to `n` records.
 */
export async function measureOperations(
  subject: Subject,
  n: number,
  references: readonly string[],
  repetitions: number,
  batch: number,
  seed: number,
): Promise<OperationSeries[]> {
  const slot = (index: number): Slot => ({
    reference: references[index % references.length] as string,
    key: keyFor(index),
  });
  await each(
    Array.from({ length: n }, (_, i) => i),
    (i) => subject.insert(slot(i), valueFor(i)),
  );
  const next = random(seed);
  const series: Record<Operation, number[]> = { insert: [], update: [], get: [], delete: [] };
  const record = (operation: Operation, seconds: number, count: number) =>
    series[operation].push(count / seconds);
  for (let repetition = 0; repetition < repetitions; repetition++) {
    const fresh = Array.from({ length: batch }, (_, i) => n + repetition * batch + i);
    record("insert", await timed(() => each(fresh, (i) => subject.insert(slot(i), valueFor(i)))), batch);
    await each(fresh, (i) => subject.delete(slot(i)));
    const updated = sample(next, n, batch);
    record(
      "update",
      await timed(() => each(updated, (i) => subject.update(slot(i), valueFor(i + 1)))),
      updated.length,
    );
    const read = sample(next, n, batch);
    record("get", await timed(() => each(read, (i) => subject.get(slot(i)))), read.length);
    const deleted = sample(next, n, batch);
    record("delete", await timed(() => each(deleted, (i) => subject.delete(slot(i)))), deleted.length);
    await each(deleted, (i) => subject.insert(slot(i), valueFor(i)));
  }
  return (Object.keys(series) as Operation[]).map((operation) => ({
    operation,
    opsPerSec: series[operation],
  }));
}
