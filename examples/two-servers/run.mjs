// Two `identity-runtime serve` processes, Org and Ada, on one database, and a webhook receiver printing what
// reaches Org: Org and Ada relate and talk, then Ada deletes her identity, and Org hears it.
//
//   npm run build && node examples/two-servers/run.mjs                       # one SQLite file
//   npm run build && DATABASE_URL=postgres://… node examples/two-servers/run.mjs   # PostgreSQL
//
// Plain fetch, as a backend in any language would call the Connector's HTTP API.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "cli.js");
const API_KEY = "example-api-key";
const directory = mkdtempSync(join(tmpdir(), "identity-runtime-two-servers-"));
const storage = process.env.DATABASE_URL
  ? `postgres:${process.env.DATABASE_URL}`
  : `sqlite:${join(directory, "shared.db")}`;
const children = [];

/** The webhook receiver: prints each event Org's server delivers, and lets the story wait for one. */
const heard = [];
const waiting = new Set();
const receiver = createServer((request, response) => {
  let body = "";
  request.setEncoding("utf8");
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    const { trigger, data } = JSON.parse(body);
    console.log(
      `  [webhook → Org's receiver] ${trigger} (peer ${data.peer ?? "-"}, seq ${request.headers["x-event-seq"]})`,
    );
    heard.push(trigger);
    for (const wake of waiting) wake();
    response.writeHead(204).end();
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}/enmeshed-events`;

function heardEvent(trigger) {
  return new Promise((resolve) => {
    const check = () => {
      if (!heard.includes(trigger)) return;
      waiting.delete(check);
      resolve();
    };
    waiting.add(check);
    check();
  });
}

/** Starts `serve` and resolves with its URL and identity once it listens. */
function serve(name, extra = []) {
  const child = spawn(
    process.execPath,
    [CLI, "serve", "--port", "0", "--storage", storage, "--identity", name, ...extra],
    { env: { ...process.env, IDENTITY_RUNTIME_API_KEY: API_KEY }, stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${name}'s server exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const entry = JSON.parse(line);
      if (entry.msg === "listening") resolve({ url: entry.url, address: entry.identity });
    });
  });
}

/** One call of the HTTP API; the `result`, or an Error carrying the error code. */
async function call(server, method, path, body) {
  const response = await fetch(`${server.url}/api/v2${path}`, {
    method,
    headers: { "x-api-key": API_KEY, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined;
  const answer = await response.json();
  if (answer.error !== undefined)
    throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
  return answer.result;
}

try {
  const webhooks = join(directory, "org-webhooks.json");
  writeFileSync(
    webhooks,
    JSON.stringify({
      targets: { receiver: { url: receiverUrl } },
      webhooks: [{ triggers: ["transport.peerToBeDeleted", "transport.peerDeleted"], target: "receiver" }],
    }),
  );
  // Names of this run's own: on a database kept from an earlier run, they are new identities again.
  const run = Date.now().toString(36);
  const [org, ada] = await Promise.all([serve(`org-${run}`, ["--webhooks", webhooks]), serve(`ada-${run}`)]);
  console.log(
    `Org is ${org.address} at ${org.url}\nAda is ${ada.address} at ${ada.url}  (storage ${storage})`,
  );

  const template = await call(org, "POST", "/RelationshipTemplates/Own", {
    content: { welcome: "Org's customer portal" },
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    maxNumberOfAllocations: 1,
  });
  await call(ada, "POST", "/RelationshipTemplates/Peer", { reference: template.truncatedReference });
  const relationship = await call(ada, "POST", "/Relationships", {
    templateId: template.id,
    creationContent: { name: "Ada" },
  });
  await call(org, "POST", "/Account/Sync");
  await call(org, "PUT", `/Relationships/${relationship.id}/Accept`);
  console.log(`Ada and Org relate: ${relationship.id}`);

  await call(org, "PUT", "/IdentityMetadata", {
    reference: ada.address,
    key: "crm",
    value: { customerId: 42 },
  });
  await call(org, "POST", "/Messages", {
    recipients: [ada.address],
    content: { "@type": "Mail", subject: "Welcome" },
  });
  await call(ada, "POST", "/Account/Sync");
  console.log(`Ada has ${(await call(ada, "GET", "/Messages")).length} message(s)`);

  console.log("Ada deletes her identity, with a grace period of two seconds…");
  await call(ada, "POST", "/IdentityDeletionProcesses", { lengthOfGracePeriodInDays: 2 / 86_400 });
  await heardEvent("transport.peerToBeDeleted");
  await call(org, "POST", "/Account/Sync");
  await call(org, "POST", "/Messages", { recipients: [ada.address], content: { "@type": "Mail" } }).catch(
    (error) => console.log(`  Org's message to Ada is refused: ${error.code}`),
  );
  await heardEvent("transport.peerDeleted");
  await call(org, "POST", "/Account/Sync");
  await call(org, "POST", "/Messages", { recipients: [ada.address], content: { "@type": "Mail" } }).catch(
    (error) => console.log(`  Org's message to Ada is refused: ${error.code}`),
  );
  console.log("Done.");
} finally {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve))),
    ),
  );
  receiver.close();
  rmSync(directory, { recursive: true, force: true });
}
