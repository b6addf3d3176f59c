// Turns bench results into a markdown table, an SVG chart of ops/s against N, and the docs section.
import { readFileSync, writeFileSync } from "node:fs";
import type { RunResult } from "./run.js";
import type { Operation, SubjectName } from "./subjects.js";

const OPERATIONS: Operation[] = ["insert", "update", "get", "delete"];
const SUBJECTS: SubjectName[] = ["facade", "loki-unique-clone", "loki-unique", "map"];

interface Results {
  runs: RunResult[];
  [extra: string]: unknown;
}

const format = (value: number) => value.toLocaleString("en-US");
const ratio = (a: number, b: number) => (b === 0 ? "n/a" : `${(a / b).toFixed(2)}×`);

function opsOf(runs: readonly RunResult[], n: number, operation: Operation, subject: SubjectName): number {
  return (
    runs.find((run) => run.n === n && run.operation === operation && run.subject === subject)?.opsPerSec ?? 0
  );
}

export function renderTable(results: Results): string {
  const sizes = [...new Set(results.runs.map((run) => run.n))].sort((a, b) => a - b);
  const smallest = sizes[0] as number;
  const lines = [
    "| N | operation | facade ops/s | loki-unique-clone | loki-unique | map | facade / loki-unique-clone | facade / map | facade at N / at " +
      format(smallest) +
      " |",
    "| --: | --- | --: | --: | --: | --: | --: | --: | --: |",
  ];
  for (const n of sizes) {
    for (const operation of OPERATIONS) {
      const [facade, lokiClone, loki, map] = SUBJECTS.map((subject) =>
        opsOf(results.runs, n, operation, subject),
      ) as [number, number, number, number];
      const flat = ratio(facade, opsOf(results.runs, smallest, operation, "facade"));
      lines.push(
        `| ${format(n)} | ${operation} | ${format(facade)} | ${format(lokiClone)} | ${format(loki)} | ${format(map)} | ${ratio(facade, lokiClone)} | ${ratio(facade, map)} | ${flat} |`,
      );
    }
  }
  lines.push("", ...renderDurableTable(results));
  const extras = Object.entries(results).filter(([key]) =>
    [
      "heapPerRecord",
      "startUp",
      "familiarity",
      "peerHistory",
      "decomposition",
      "deletionFanOut",
      "http",
      "cluster",
    ].includes(key),
  );
  lines.push("", "| measurement | values |", "| --- | --- |");
  for (const [key, value] of extras) lines.push(`| ${key} | \`${JSON.stringify(value)}\` |`);
  return lines.join("\n");
}

interface DurableRun {
  storage: "sqlite" | "postgres";
  concurrency: number;
  subject: "facade" | "raw";
  opsPerSec: number;
}

interface HttpServer {
  put: { requestsPerSec: number; p99Ms: number };
}

/** The durable writes against the raw drivers, and the HTTP PUT on each storage against the in-memory server. */
function renderDurableTable(results: Results): string[] {
  const durable = (results["durable"] ?? []) as DurableRun[];
  const lines = [
    "| storage | concurrency | facade upserts/s | raw driver upserts/s | facade / raw |",
    "| --- | --: | --: | --: | --: |",
  ];
  for (const storage of ["sqlite", "postgres"] as const) {
    for (const concurrency of [...new Set(durable.map((run) => run.concurrency))]) {
      const find = (subject: DurableRun["subject"]) =>
        durable.find(
          (run) => run.storage === storage && run.concurrency === concurrency && run.subject === subject,
        )?.opsPerSec;
      const facade = find("facade");
      const raw = find("raw");
      if (facade === undefined || raw === undefined) continue;
      lines.push(
        `| ${storage} | ${concurrency} | ${format(facade)} | ${format(raw)} | ${ratio(facade, raw)} |`,
      );
    }
  }
  const http = results["http"] as
    ({ memory: HttpServer; sqlite: HttpServer; postgres?: HttpServer } & Record<string, unknown>) | undefined;
  if (http?.memory !== undefined) {
    lines.push(
      "",
      "| HTTP PUT /api/v2/IdentityMetadata | requests/s | p99 ms | / in memory |",
      "| --- | --: | --: | --: |",
    );
    for (const [name, server] of [
      ["memory", http.memory],
      ["sqlite", http.sqlite],
      ["postgres", http.postgres],
    ] as const) {
      if (server === undefined) continue;
      lines.push(
        `| ${name} | ${format(server.put.requestsPerSec)} | ${server.put.p99Ms} | ${ratio(server.put.requestsPerSec, http.memory.put.requestsPerSec)} |`,
      );
    }
  }
  return lines;
}

/** Bars of upserts/s per concurrency (log scale), facade beside raw, one panel per storage. */
export function renderDurableChart(runs: readonly DurableRun[]): string {
  const storages = (["sqlite", "postgres"] as const).filter((storage) =>
    runs.some((run) => run.storage === storage),
  );
  const levels = [...new Set(runs.map((run) => run.concurrency))].sort((a, b) => a - b);
  const colors = { facade: "#d62728", raw: "#7f7f7f" };
  const width = 360;
  const height = 220;
  const pad = { left: 56, right: 16, top: 28, bottom: 36 };
  const values = runs.map((run) => run.opsPerSec).filter((value) => value > 0);
  const low = Math.floor(Math.log10(Math.min(...values)));
  const high = Math.ceil(Math.log10(Math.max(...values)));
  const y = (ops: number) =>
    pad.top + ((high - Math.log10(Math.max(ops, 1))) / (high - low)) * (height - pad.top - pad.bottom);
  const slot = (width - pad.left - pad.right) / levels.length;
  const panels = storages.map((storage, index) => {
    const parts = [`<g transform="translate(${index * width},0)">`];
    parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" font-weight="bold">${storage}</text>`);
    for (let power = low; power <= high; power++) {
      const yy = y(10 ** power).toFixed(1);
      parts.push(`<line x1="${pad.left}" x2="${width - pad.right}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
      parts.push(
        `<text x="${pad.left - 4}" y="${yy}" text-anchor="end" dominant-baseline="middle">1e${power}</text>`,
      );
    }
    levels.forEach((concurrency, at) => {
      const x = pad.left + at * slot;
      parts.push(
        `<text x="${(x + slot / 2).toFixed(1)}" y="${height - 18}" text-anchor="middle">${concurrency}</text>`,
      );
      (["facade", "raw"] as const).forEach((subject, side) => {
        const run = runs.find(
          (r) => r.storage === storage && r.concurrency === concurrency && r.subject === subject,
        );
        if (run === undefined) return;
        const top = y(run.opsPerSec);
        parts.push(
          `<rect x="${(x + slot * (0.15 + side * 0.35)).toFixed(1)}" y="${top.toFixed(1)}" width="${(slot * 0.3).toFixed(1)}" height="${(height - pad.bottom - top).toFixed(1)}" fill="${colors[subject]}"/>`,
        );
      });
    });
    parts.push("</g>");
    return parts.join("");
  });
  const legend = (["facade", "raw"] as const).map(
    (subject, index) =>
      `<g transform="translate(${pad.left + index * 190},${height + 30})"><rect width="14" height="8" y="-4" fill="${colors[subject]}"/><text x="20" dominant-baseline="middle">${subject === "raw" ? "raw driver, one statement per write" : "facade (group commit)"}</text></g>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width * Math.max(storages.length, 1)}" height="${height + 44}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    ...legend,
    `<text x="${(width * storages.length) / 2}" y="${height + 8}" text-anchor="middle">concurrent writers — durable upserts/s, log scale</text>`,
    "</svg>",
    "",
  ].join("\n");
}

/** A line chart per operation: ops/s (log scale) against N (log scale), one line per subject. */
export function renderChart(runs: readonly RunResult[]): string {
  const sizes = [...new Set(runs.map((run) => run.n))].sort((a, b) => a - b);
  const colors: Record<SubjectName, string> = {
    facade: "#d62728",
    "loki-unique-clone": "#1f77b4",
    "loki-unique": "#2ca02c",
    map: "#7f7f7f",
  };
  const width = 300;
  const height = 220;
  const pad = { left: 50, right: 34, top: 28, bottom: 36 };
  const values = runs.map((run) => run.opsPerSec).filter((v) => v > 0);
  const low = Math.floor(Math.log10(Math.min(...values)));
  const high = Math.ceil(Math.log10(Math.max(...values)));
  const x = (n: number) =>
    pad.left +
    ((Math.log10(n) - Math.log10(sizes[0] as number)) /
      Math.max(Math.log10(sizes.at(-1) as number) - Math.log10(sizes[0] as number), 1)) *
      (width - pad.left - pad.right);
  const y = (ops: number) =>
    pad.top + ((high - Math.log10(ops)) / (high - low)) * (height - pad.top - pad.bottom);
  const panels = OPERATIONS.map((operation, index) => {
    const parts: string[] = [`<g transform="translate(${index * width},0)">`];
    parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" font-weight="bold">${operation}</text>`);
    for (let power = low; power <= high; power++) {
      const yy = y(10 ** power).toFixed(1);
      parts.push(`<line x1="${pad.left}" x2="${width - pad.right}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
      parts.push(
        `<text x="${pad.left - 4}" y="${yy}" text-anchor="end" dominant-baseline="middle">1e${power}</text>`,
      );
    }
    for (const n of sizes) {
      parts.push(`<text x="${x(n).toFixed(1)}" y="${height - 18}" text-anchor="middle">${format(n)}</text>`);
    }
    for (const subject of SUBJECTS) {
      const points = sizes.map(
        (n) => `${x(n).toFixed(1)},${y(Math.max(opsOf(runs, n, operation, subject), 1)).toFixed(1)}`,
      );
      parts.push(
        `<polyline fill="none" stroke="${colors[subject]}" stroke-width="2" points="${points.join(" ")}"/>`,
      );
    }
    parts.push("</g>");
    return parts.join("");
  });
  const legend = SUBJECTS.map(
    (subject, index) =>
      `<g transform="translate(${pad.left + index * 190},${height + 30})"><rect width="14" height="4" y="-2" fill="${colors[subject]}"/><text x="20" dominant-baseline="middle">${subject}</text></g>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width * 4}" height="${height + 44}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    ...legend,
    `<text x="${width * 2}" y="${height + 8}" text-anchor="middle">N (stored records) — ops/s, both axes log scale</text>`,
    "</svg>",
    "",
  ].join("\n");
}

/** Replaces the generated section of docs/benchmarks.md with the latest table. */
export function updateDocs(file: URL, table: string): void {
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const docs = readFileSync(file, "utf8");
  const before = docs.slice(0, docs.indexOf(start) + start.length);
  const after = docs.slice(docs.indexOf(end));
  if (!docs.includes(start) || !docs.includes(end))
    throw new Error(`${file.pathname} lacks the bench markers`);
  writeFileSync(file, `${before}\n\n${table}\n\n${after}`);
}
