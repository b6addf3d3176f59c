// Runs `identity-runtime serve` (src/cli.ts under tsx) as a real OS process, and reads its JSON log lines.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const ROOT = join(__dirname, "..", "..");
/** How long a test waits for a log line or an exit by default. */
export const WAIT_MS = 10_000;

export interface LogLine {
  time: string;
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface Cli {
  child: ChildProcess;
  lines: LogLine[];
  stderr(): string;
  /** The first line (seen or to come) matching `predicate`; rejects after `timeoutMs`. */
  line(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or signal) once the process has exited; rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Cli[] = [];

afterEach(() => {
  for (const cli of started.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill("SIGKILL");
  }
});

/** Runs `src/cli.ts` with tsx, the way the `bin` runs `dist/cli.js`. */
export function startCli(args: string[], env: Record<string, string> = {}): Cli {
  const environment: NodeJS.ProcessEnv = {
    ...process.env,
    TSX_TSCONFIG_PATH: join(ROOT, "tsconfig.run.json"),
    ...env,
  };
  if (env["IDENTITY_RUNTIME_API_KEY"] === undefined) delete environment["IDENTITY_RUNTIME_API_KEY"];
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src", "cli.ts"), ...args], {
    cwd: ROOT,
    env: environment,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  const listeners = new Set<() => void>();
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (stderr += chunk));
  createInterface({ input: child.stdout }).on("line", (text) => {
    let parsed: LogLine;
    try {
      parsed = JSON.parse(text) as LogLine;
    } catch {
      parsed = { time: "", level: "unparsed", msg: text };
    }
    lines.push(parsed);
    for (const listener of listeners) listener();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const describeState = () => `stdout lines: ${JSON.stringify(lines)}\nstderr: ${stderr}`;

  const cli: Cli = {
    child,
    lines,
    stderr: () => stderr,
    line: (predicate, timeoutMs = WAIT_MS) =>
      new Promise<LogLine>((resolve, reject) => {
        const check = () => {
          const found = lines.find(predicate);
          if (found === undefined) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching log line within ${timeoutMs} ms\n${describeState()}`));
        }, timeoutMs);
        const onExit = () => {
          // Lines may still be buffered in readline: give them a moment before giving up.
          setTimeout(() => {
            check();
            if (listeners.has(check)) {
              cleanup();
              reject(new Error(`the process exited without a matching log line\n${describeState()}`));
            }
          }, 50);
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off("exit", onExit);
        };
        listeners.add(check);
        child.once("exit", onExit);
        check();
      }),
    exited: (timeoutMs = WAIT_MS) =>
      Promise.race([
        exit,
        new Promise<never>((_resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`the process did not exit within ${timeoutMs} ms\n${describeState()}`)),
            timeoutMs,
          );
          void exit.then(() => clearTimeout(timer));
        }),
      ]),
  };
  started.push(cli);
  return cli;
}

/** Starts `serve` and waits for its "listening" line: the URL and the own identity. */
export async function startServer(args: string[], env: Record<string, string> = {}) {
  const cli = startCli(["serve", "--port", "0", ...args], env);
  const listening = await cli.line((line) => line.msg === "listening");
  expect(listening).toMatchObject({
    level: "info",
    url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) as unknown,
  });
  expect(listening.identity).toMatch(/^did:e:[a-z0-9.-]+:dids:[0-9a-f]{22}$/);
  return { cli, url: listening.url as string, identity: listening.identity as string };
}
