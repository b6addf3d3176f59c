// The pages of the Admin UI, as HTML. Plain forms and links only: no script, no inline style, so the
// Content-Security-Policy can forbid both, and every page works without JavaScript.
import type {
  AdminAuditEntry,
  AdminAuditPage,
  AdminIdentity,
  AdminIdentityDeletionProcess,
  AdminIdentityDetails,
  AdminIdentityPage,
} from "../backbone/admin.js";
import { markup } from "./html.js";
import type { HtmlValue, SafeHtml } from "./html.js";

/** Where the UI is served; its links, forms and cookies are all below it. */
export const BASE = "/admin-ui";
/** The stylesheet's path, served by the handler (no inline style under the CSP). */
export const STYLESHEET = `${BASE}/style.css`;
/** How often the identity page reloads itself while a process is active: the outcome shows without a click. */
export const REFRESH_SECONDS = 15;

/** What every page of a signed-in operator shows in its header. */
export interface Viewer {
  operator: string;
  csrfToken: string;
}

export const identitiesPath = (): string => `${BASE}/identities`;
export const identityPath = (address: string): string => `${BASE}/identities/${encodeURIComponent(address)}`;
export const startPath = (address: string): string => `${identityPath(address)}/deletion`;
export const auditPath = (): string => `${BASE}/audit`;
export const signInPath = (): string => `${BASE}/sign-in`;
export const signOutPath = (): string => `${BASE}/sign-out`;

function layout(title: string, viewer: Viewer | undefined, main: SafeHtml, head?: HtmlValue): SafeHtml {
  const navigation =
    viewer === undefined
      ? undefined
      : markup`<nav aria-label="Main">
<ul>
<li><a href="${identitiesPath()}">Identities</a></li>
<li><a href="${auditPath()}">Audit log</a></li>
</ul>
</nav>
<form method="post" action="${signOutPath()}" class="sign-out">
${csrfField(viewer)}
<span>Signed in as <strong>${viewer.operator}</strong></span>
<button type="submit">Sign out</button>
</form>`;
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} – Backbone Admin</title>
<link rel="stylesheet" href="${STYLESHEET}">
${head}
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header class="site">
<p class="brand">Backbone Admin</p>
${navigation}
</header>
<main id="main" tabindex="-1">
${main}
</main>
</body>
</html>
`;
}

function csrfField(form: { csrfToken: string }): SafeHtml {
  return markup`<input type="hidden" name="csrf" value="${form.csrfToken}">`;
}

/** A form field's error, referred to by the field's aria-describedby. */
function fieldError(id: string, error: string | undefined): SafeHtml | undefined {
  return error === undefined ? undefined : markup`<p class="error" id="${id}">${error}</p>`;
}

/** An instant as `2030-01-01 12:00:00 UTC`, in a <time> that carries the exact ISO value. */
export function when(iso: string | undefined): SafeHtml | undefined {
  if (iso === undefined) return undefined;
  return markup`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC</time>`;
}

/** How long until `end`, in the two largest units that matter to an operator. */
export function timeLeft(end: string | undefined, now: Date): string {
  const ms = Date.parse(end ?? "") - now.getTime();
  if (!(ms >= 0)) return "ended";
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1_440);
  const hours = Math.floor((minutes % 1_440) / 60);
  const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? "" : "s"}`;
  if (days > 0) return `${plural(days, "day")} ${plural(hours, "hour")} left`;
  if (hours > 0) return `${plural(hours, "hour")} ${plural(minutes % 60, "minute")} left`;
  return minutes > 0 ? `${plural(minutes, "minute")} left` : "less than a minute left";
}

/** A process's status in words an operator acts on: never colour alone (the CSS only adds colour to the text). */
function processState(process: AdminIdentityDeletionProcess, now: Date): SafeHtml {
  switch (process.status) {
    case "WaitingForApproval":
      return markup`<span class="status waiting">Waiting for approval</span> until ${when(process.approvalPeriodEndsAt)} (${timeLeft(process.approvalPeriodEndsAt, now)})`;
    case "Approved":
      return process.identityDeleted
        ? markup`<span class="status deleted">Approved – identity deleted</span> when the grace period ended ${when(process.gracePeriodEndsAt)}`
        : markup`<span class="status approved">Approved</span>: deleted when the grace period ends ${when(process.gracePeriodEndsAt)} (${timeLeft(process.gracePeriodEndsAt, now)})`;
    case "Rejected":
      return markup`<span class="status ended">Rejected by the identity</span> ${when(process.rejectedAt)}`;
    case "Cancelled":
      return process.approvedAt === undefined
        ? markup`<span class="status ended">Cancelled – the approval period ended undecided</span> ${when(process.cancelledAt)}`
        : markup`<span class="status ended">Cancelled by the identity</span> ${when(process.cancelledAt)}`;
  }
}

const IDENTITY_STATUS = { Active: "Active", ToBeDeleted: "To be deleted", Deleted: "Deleted" } as const;

function identityStatus(identity: AdminIdentity): SafeHtml {
  return markup`<span class="status ${identity.status.toLowerCase()}">${IDENTITY_STATUS[identity.status]}</span>`;
}

export function signInPage(
  form: { csrfToken: string; operator?: string },
  error?: { field: "operator" | "key"; message: string },
): SafeHtml {
  const invalid = (field: "operator" | "key") =>
    error?.field === field ? markup` aria-invalid="true" aria-describedby="${field}-error"` : undefined;
  const message = (field: "operator" | "key") =>
    fieldError(`${field}-error`, error?.field === field ? error.message : undefined);
  return layout(
    "Sign in",
    undefined,
    markup`<h1>Sign in</h1>
<p>Sign in with the Backbone's admin key. Your name goes into the audit log with every deletion you start.</p>
<form method="post" action="${signInPath()}" class="stack">
${csrfField(form)}
<label for="operator">Your name</label>
<input id="operator" name="operator" autocomplete="name" required maxlength="100" value="${form.operator ?? ""}"${invalid("operator")}>
${message("operator")}
<label for="key">Admin key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required${invalid("key")}>
${message("key")}
<div class="actions"><button type="submit">Sign in</button></div>
</form>`,
  );
}

function pager(
  label: string,
  { total, limit, offset, shown }: { total: number; limit: number; offset: number; shown: number },
  link: (offset: number) => string,
): SafeHtml {
  // An offset past the end (an old link, a hand-edited one) shows an empty page that still says how many there are.
  const range = shown === 0 ? `none of ${total}` : `${offset + 1} to ${offset + shown} of ${total}`;
  // From past the end, back to the last page that has any.
  const previousOffset = Math.max(0, Math.min(offset - limit, Math.floor((total - 1) / limit) * limit));
  const previous =
    offset > 0 ? markup`<a href="${link(previousOffset)}" rel="prev">Previous page</a>` : undefined;
  const next =
    offset + shown < total ? markup`<a href="${link(offset + limit)}" rel="next">Next page</a>` : undefined;
  return markup`<nav class="pager" aria-label="${label}">
<p>Showing ${range}.</p>
${previous}
${next}
</nav>`;
}

/** A link to a page of a list: the search kept, so paging through a search stays in it. */
function listLink(path: string, search: string, offset: number): string {
  const query = new URLSearchParams();
  if (search !== "") query.set("search", search);
  if (offset > 0) query.set("offset", String(offset));
  const text = query.toString();
  return text === "" ? path : `${path}?${text}`;
}

export function identitiesPage(viewer: Viewer, search: string, page: AdminIdentityPage, now: Date): SafeHtml {
  const rows = page.items.map(
    (identity) => markup`<tr>
<th scope="row"><a href="${identityPath(identity.address)}">${identity.address}</a></th>
<td>${when(identity.createdAt)}</td>
<td>${identityStatus(identity)}</td>
<td>${identity.activeDeletionProcess === undefined ? "none" : processState(identity.activeDeletionProcess, now)}</td>
</tr>`,
  );
  const caption =
    search === ""
      ? "Every identity, oldest first"
      : markup`Identities whose address contains “${search}”, oldest first`;
  const table =
    page.items.length === 0
      ? markup`<p>No identity matches${search === "" ? "" : markup` “${search}”`}.</p>`
      : markup`<table>
<caption>${caption}</caption>
<thead><tr><th scope="col">Address</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col">Active deletion process</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
  return layout(
    search === "" ? "Identities" : `Identities matching ${search}`,
    viewer,
    markup`<h1>Identities</h1>
<form method="get" action="${identitiesPath()}" class="search" role="search">
<label for="search">Address or part of it</label>
<input id="search" name="search" type="search" maxlength="200" value="${search}">
<button type="submit">Search</button>
</form>
${table}
${pager("Pages of identities", { ...page, shown: page.items.length }, (offset) => listLink(identitiesPath(), search, offset))}`,
  );
}

export function identityPage(
  viewer: Viewer,
  identity: AdminIdentityDetails,
  audit: readonly AdminAuditEntry[],
  now: Date,
  options: { refresh: boolean; started?: string },
): SafeHtml {
  const active = identity.activeDeletionProcess;
  const live = active !== undefined && !active.identityDeleted;
  const here = identityPath(identity.address);
  const rows = [...identity.deletionProcesses].reverse().map(
    (process) => markup`<tr>
<th scope="row">${process.id}</th>
<td>${processState(process, now)}</td>
<td>${when(process.createdAt)}</td>
<td>${when(process.approvalPeriodEndsAt) ?? "–"}</td>
<td>${when(process.approvedAt) ?? "–"}</td>
<td>${when(process.gracePeriodEndsAt) ?? "–"}</td>
<td>${when(process.rejectedAt ?? process.cancelledAt) ?? "–"}</td>
</tr>`,
  );
  const processes =
    rows.length === 0
      ? markup`<p>This identity has had no deletion process.</p>`
      : markup`<table>
<caption>Every deletion process of this identity, newest first</caption>
<thead><tr><th scope="col">Process</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Approval period ends</th><th scope="col">Approved</th><th scope="col">Grace period ends</th><th scope="col">Rejected or cancelled</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
  // Said only while it is so: a bookmarked or reloaded link must not announce a start long past.
  const notice =
    options.started === undefined || active?.id !== options.started || active.status !== "WaitingForApproval"
      ? undefined
      : markup`<p class="notice" role="status">Deletion process ${options.started} started: it waits for the identity's approval.</p>`;
  const reloading = !live
    ? undefined
    : options.refresh
      ? markup`<p class="refresh">This page reloads every ${REFRESH_SECONDS} seconds while the process is active. <a href="${here}?refresh=off">Stop reloading</a></p>`
      : markup`<p class="refresh">Reloading is off. <a href="${here}">Reload now and keep reloading</a></p>`;
  return layout(
    `Identity ${identity.address}`,
    viewer,
    markup`<h1>Identity <span class="address">${identity.address}</span></h1>
${notice}
<dl class="facts">
<dt>Created</dt><dd>${when(identity.createdAt)}</dd>
<dt>Status</dt><dd>${identityStatus(identity)}</dd>
<dt>Active deletion process</dt><dd>${active === undefined ? "none" : processState(active, now)}</dd>
</dl>
${active === undefined ? markup`<p><a class="button" href="${startPath(identity.address)}">Start deletion…</a></p>` : undefined}
${reloading}
<h2>Deletion processes</h2>
${processes}
<h2>Audit log of this identity</h2>
${auditTable(audit, false)}`,
    live && options.refresh ? markup`<meta http-equiv="refresh" content="${REFRESH_SECONDS}">` : undefined,
  );
}

export function startPage(
  viewer: Viewer,
  address: string,
  periods: { approvalPeriodInDays: number; gracePeriodInDays: number },
  form: { reason?: string; error?: string; refusal?: string } = {},
): SafeHtml {
  const describedBy = form.error === undefined ? "reason-hint" : "reason-hint reason-error";
  const invalid = form.error === undefined ? undefined : markup` aria-invalid="true"`;
  const refusal =
    form.refusal === undefined ? undefined : markup`<p class="error" role="alert">${form.refusal}</p>`;
  return layout(
    `Start the deletion of ${address}`,
    viewer,
    markup`<h1>Start the deletion of <span class="address">${address}</span>?</h1>
${refusal}
<p>This starts a deletion process that waits for the identity's approval. The identity has
${periods.approvalPeriodInDays} days to approve or reject it; undecided, it is cancelled. Once approved, the
identity is deleted for good after a grace period of ${periods.gracePeriodInDays} days, unless it cancels before.</p>
<form method="post" action="${startPath(address)}" class="stack">
${csrfField(viewer)}
<label for="reason">Reason: the support ticket or e-mail this answers</label>
<p class="hint" id="reason-hint">Kept in the audit log with your name and the time. Up to 500 characters.</p>
<textarea id="reason" name="reason" required maxlength="500" rows="3" aria-describedby="${describedBy}"${invalid}>${form.reason ?? ""}</textarea>
${fieldError("reason-error", form.error)}
<div class="actions">
<button type="submit">Start deletion</button>
<a href="${identityPath(address)}">Cancel</a>
</div>
</form>`,
  );
}

function auditTable(entries: readonly AdminAuditEntry[], withIdentity: boolean): SafeHtml {
  if (entries.length === 0) return markup`<p>No entries.</p>`;
  const rows = entries.map(
    (entry) => markup`<tr>
<th scope="row">${when(entry.at)}</th>
<td>${entry.operator}</td>
${withIdentity ? markup`<td><a href="${identityPath(entry.address)}">${entry.address}</a></td>` : undefined}
<td class="reason">${entry.reason}</td>
<td>${entry.outcome === "started" ? `Started ${entry.deletionProcessId ?? ""}` : `Refused: ${entry.errorCode ?? ""}`}</td>
</tr>`,
  );
  const identityHeader = withIdentity ? markup`<th scope="col">Identity</th>` : undefined;
  return markup`<table>
<caption>Attempts to start a deletion, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Operator</th>${identityHeader}<th scope="col">Reason</th><th scope="col">Outcome</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

export function auditPage(viewer: Viewer, page: AdminAuditPage): SafeHtml {
  return layout(
    "Audit log",
    viewer,
    markup`<h1>Audit log</h1>
<p>Every attempt to start an identity's deletion from this UI: who, when (by the Backbone's clock), which identity, why, and what came of it.</p>
${auditTable(page.items, true)}
${pager("Pages of the audit log", { ...page, shown: page.items.length }, (offset) => listLink(auditPath(), "", offset))}`,
  );
}

/** A refusal or failure, as a page: what happened and where to go on. */
export function problemPage(viewer: Viewer | undefined, title: string, message: string): SafeHtml {
  const onward =
    viewer === undefined
      ? markup`<a href="${signInPath()}">Sign in</a>`
      : markup`<a href="${identitiesPath()}">Back to the identities</a>`;
  return layout(
    title,
    viewer,
    markup`<h1>${title}</h1>
<p>${message}</p>
<p>${onward}</p>`,
  );
}
