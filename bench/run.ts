// `npm run bench [-- --quick]`: IdentityMetadata through the facades against raw LokiJS and a Map, durable
// writes against the raw drivers, and the costs that must stay independent of unrelated data. Writes bench/results.json, docs/benchmarks.svg and the
// results section of docs/benchmarks.md.
import { writeFileSync } from "node:fs";
import { measureCluster } from "./cluster.js";
import { measureDurable } from "./durable.js";
import { measureExtras } from "./extras.js";
import { measureHttp } from "./http.js";
import type { OperationSeries } from "./measure.js";
import { measureOperations, median } from "./measure.js";
import { renderChart, renderDurableChart, renderTable, updateDocs } from "./report.js";
import type { Operation, Subject, SubjectName } from "./subjects.js";
import { facadeSubject, lokiSubject, mapSubject } from "./subjects.js";

export interface RunResult {
  n: number;
  operation: Operation;
  subject: SubjectName;
  opsPerSec: number;
}

const quick = process.argv.includes("--quick");
const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
const repetitions = quick ? 3 : 5;
const batch = quick ? 1_000 : 2_000;
const PEERS = 50;

async function main(): Promise<void> {
  const started = Date.now();
  const runs: RunResult[] = [];
  // A first round that is thrown away, so the first size measured does not pay for the JIT's warm-up.
  const warmUp = await facadeSubject(PEERS);
  for (const subject of [warmUp, lokiSubject(true), lokiSubject(false), mapSubject()]) {
    await measureOperations(subject, 1_000, warmUp.peers, 1, 1_000, 1);
    await subject.close();
  }
  for (const n of sizes) {
    const facade = await facadeSubject(PEERS);
    const subjects: Subject[] = [facade, lokiSubject(true), lokiSubject(false), mapSubject()];
    for (const subject of subjects) {
      const series: OperationSeries[] = await measureOperations(
        subject,
        n,
        facade.peers,
        repetitions,
        batch,
        n,
      );
      for (const { operation, opsPerSec } of series) {
        runs.push({ n, operation, subject: subject.name, opsPerSec: Math.round(median(opsPerSec)) });
      }
      await subject.close();
      console.error(`measured ${subject.name} at n=${n}`);
    }
  }
  const extras = {
    ...(await measureExtras({ quick })),
    durable: await measureDurable({ quick }),
    http: await measureHttp({ quick }),
    cluster: await measureCluster({ quick }),
  };
  const results = {
    generatedAt: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
    settings: { sizes, repetitions, batch, peers: PEERS },
    runs,
    ...extras,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  writeFileSync(new URL("results.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  const table = renderTable(results);
  console.log(table);
  if (!quick) {
    writeFileSync(new URL("../docs/benchmarks.svg", import.meta.url), renderChart(runs));
    writeFileSync(
      new URL("../docs/benchmarks-durable.svg", import.meta.url),
      renderDurableChart(extras.durable),
    );
    updateDocs(new URL("../docs/benchmarks.md", import.meta.url), table);
  }
}

await main();
