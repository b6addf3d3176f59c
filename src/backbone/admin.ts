import { fail, succeed } from "../core/errors.js";
import { generateId } from "../core/ids.js";
import type { RuntimeError, RuntimeResult } from "../core/errors.js";
import type { Result } from "../core/result.js";
import { requestSchema, rules, validateRequest } from "../core/validation.js";
import { isActive, toProcessDTO } from "../identity-deletion/model.js";
import type {
  IdentityDeletionProcessDTO,
  StoredIdentityDeletionProcess,
} from "../identity-deletion/model.js";

/**
 * Where an identity stands in its deletion, as the Backbone Admin UI shows it: Active (not in deletion; it may
 * have a process WaitingForApproval), ToBeDeleted (an Approved process's grace period runs), Deleted (that
 * grace period has passed).
 * @example
 * const page = (await backbone.admin.listIdentities()).unwrap();
 * const count = (status: AdminIdentityStatus) => page.items.filter((item) => item.status === status).length;
 * console.log(count("ToBeDeleted"), "of this page are to be deleted");
 */
export type AdminIdentityStatus = "Active" | "ToBeDeleted" | "Deleted";

/**
 * An IdentityDeletionProcess as the Backbone Admin UI sees it: the identity's own view, and whether the
 * identity was deleted when its grace period ended (the process itself then stays Approved).
 * @example
 * const identity = (await backbone.admin.getIdentity(address)).unwrap();
 * const deleting: AdminIdentityDeletionProcess | undefined = identity.deletionProcesses.find((p) => p.identityDeleted);
 */
export interface AdminIdentityDeletionProcess extends IdentityDeletionProcessDTO {
  /** Whether the grace period of this (Approved) process has passed and the identity has been deleted. */
  identityDeleted: boolean;
}

/**
 * One identity of the Backbone, as the Admin UI lists it.
 * @example
 * const page = (await backbone.admin.listIdentities({ search: "dids:0a" })).unwrap();
 * for (const identity of page.items) console.log(identity.address, identity.createdAt, identity.status);
 */
export interface AdminIdentity {
  /** The identity's address. */
  address: string;
  /** When the Backbone created the identity. */
  createdAt: string;
  /** Where the identity stands in its deletion, derived from its processes. */
  status: AdminIdentityStatus;
  /**
   * The WaitingForApproval or Approved process, if any: for a ToBeDeleted identity the one whose grace period
   * runs, for a Deleted one the one that deleted it.
   */
  activeDeletionProcess?: AdminIdentityDeletionProcess;
}

/**
 * One identity with all its deletion processes, oldest first.
 * @example
 * const identity = (await backbone.admin.getIdentity(address)).unwrap();
 * for (const process of identity.deletionProcesses) console.log(process.status, process.createdAt);
 */
export interface AdminIdentityDetails extends AdminIdentity {
  /** Every process of the identity, oldest first, ended ones included. */
  deletionProcesses: AdminIdentityDeletionProcess[];
}

/**
 * Which identities `listIdentities` answers with: those whose address contains `search` (ignoring case), oldest
 * first, `limit` of them from `offset` on.
 * @example
 * const query: AdminIdentityQuery = { search: "localhost", limit: 50, offset: 100 };
 * const page = (await backbone.admin.listIdentities(query)).unwrap();
 */
export interface AdminIdentityQuery {
  /** Part of the address, compared ignoring case; default: every identity. */
  search?: string;
  /** How many identities a page holds, 1 to 100; default 20. */
  limit?: number;
  /** How many matching identities to skip, 0 or more; default 0. */
  offset?: number;
}

/**
 * A page of identities: the matching ones from `offset` on, and how many match in all.
 * @example
 * const page = (await backbone.admin.listIdentities({ limit: 10 })).unwrap();
 * const hasMore = page.offset + page.items.length < page.total;
 */
export interface AdminIdentityPage {
  /** The identities of this page, oldest first. */
  items: AdminIdentity[];
  /** How many identities match the search, on every page together. */
  total: number;
  /** The page size used. */
  limit: number;
  /** How many matching identities come before this page. */
  offset: number;
}

/**
 * Who starts an identity's deletion and why, as the admin audit log keeps it: the operator's name (the admin
 * key is shared, so the name is what tells operators apart) and the support ticket or e-mail it answers.
 * @example
 * const audit: AdminAuditContext = { operator: "Jane Doe", reason: "Ticket #4711, GDPR erasure request" };
 * await backbone.admin.startIdentityDeletionProcess(address, audit);
 */
export interface AdminAuditContext {
  /** Who acts: 1 to 100 characters. */
  operator: string;
  /** Why: the ticket or e-mail reference, 1 to 500 characters. */
  reason: string;
}

/**
 * One entry of the admin audit log: an attempt to start an identity's deletion, started or refused.
 * @example
 * const page = (await backbone.admin.listAuditLog()).unwrap();
 * for (const entry of page.items) console.log(entry.at, entry.operator, entry.address, entry.reason, entry.outcome);
 */
export interface AdminAuditEntry extends AdminAuditContext {
  /** `"AUD"` followed by 17 letters and digits. */
  id: string;
  /** When, by the Backbone's clock. */
  at: string;
  /** Whose deletion was to start. */
  address: string;
  /** Whether the process was started, or refused (then `errorCode` says why). */
  outcome: "started" | "refused";
  /** The process started, when it was. */
  deletionProcessId?: string;
  /** The code of the refusal, when it was refused. */
  errorCode?: string;
}

/**
 * A page of the audit log, newest entry first, and how many entries match in all.
 * @example
 * const page: AdminAuditPage = (await backbone.admin.listAuditLog({ search: address })).unwrap();
 * console.log(`${page.total} attempts to delete ${address}`);
 */
export interface AdminAuditPage {
  /** The entries of this page, newest first. */
  items: AdminAuditEntry[];
  /** How many entries match the search, on every page together. */
  total: number;
  /** The page size used. */
  limit: number;
  /** How many matching entries come before this page. */
  offset: number;
}

/**
 * What the Backbone Admin UI can do.
 * @example
 * const started = await backbone.admin.startIdentityDeletionProcess(runtime.address);
 * if (started.ok) console.log(started.val.status); // "WaitingForApproval"
 */
export interface BackboneAdmin {
  /**
   * Starts the deletion of an identity on its behalf (support ticket, GDPR e-mail): a process
   * WaitingForApproval that the identity approves or rejects within the approval period. With `audit`, the
   * attempt is written to the admin audit log in the same transaction, started or refused (an `audit` that
   * is not valid refuses the start itself, and nothing is written).
   */
  startIdentityDeletionProcess(
    address: string,
    audit?: AdminAuditContext,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>>;
  /**
   * A page of the admin audit log, newest entry first; `search` matches part of the address (ignoring
   * case), `limit` and `offset` page as in `listIdentities`.
   */
  listAuditLog(query?: AdminIdentityQuery): Promise<RuntimeResult<AdminAuditPage>>;
  /**
   * A page of the Backbone's identities, oldest first (a page does not shift when identities are created
   * while one pages through), each with where it stands in its deletion. Reads the storage on every call,
   * and writes nothing: what became due is shown as applied.
   */
  listIdentities(query?: AdminIdentityQuery): Promise<RuntimeResult<AdminIdentityPage>>;
  /**
   * One identity with every deletion process it had; `error.runtime.recordNotFound` if the Backbone does
   * not know it. Writes nothing: what became due is shown as applied.
   */
  getIdentity(address: string): Promise<RuntimeResult<AdminIdentityDetails>>;
}

const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

const IDENTITY_QUERY = requestSchema(
  {
    search: rules.optional(rules.string()),
    limit: rules.optional(rules.number({ min: 1, integer: true })),
    offset: rules.optional(rules.number({ min: 0, integer: true })),
  },
  { mayBeOmitted: true },
);

const AUDIT_CONTEXT = requestSchema({
  operator: rules.string({ maxLength: 100, wellFormed: true }),
  reason: rules.string({ maxLength: 500, wellFormed: true }),
});

/** The audit context with both fields trimmed, or why it is invalid: an empty name or reason tells nobody anything. */
export function parseAuditContext(audit: unknown): Result<AdminAuditContext, RuntimeError> {
  const valid = validateRequest(AUDIT_CONTEXT, audit);
  if (valid.err) return valid;
  const operator = valid.val.operator.trim();
  const reason = valid.val.reason.trim();
  if (operator === "")
    return fail("error.runtime.validation.invalidPropertyValue", "operator must not be empty");
  if (reason === "") return fail("error.runtime.validation.invalidPropertyValue", "reason must not be empty");
  return succeed({ operator, reason });
}

/** The audit entry of an attempt to start `address`'s deletion, with its outcome. */
export function auditEntryOf(
  context: AdminAuditContext,
  address: string,
  at: Date,
  started: RuntimeResult<IdentityDeletionProcessDTO>,
): AdminAuditEntry {
  return {
    id: generateId("AUD"),
    at: at.toISOString(),
    operator: context.operator,
    address,
    reason: context.reason,
    ...(started.ok
      ? { outcome: "started", deletionProcessId: started.val.id }
      : { outcome: "refused", errorCode: started.val.code }),
  };
}

/** The page of the audit log `query` asks for, newest first, from the entries in the order they were written. */
export function auditPageOf(
  entries: readonly AdminAuditEntry[],
  { search, limit, offset }: Required<AdminIdentityQuery>,
): AdminAuditPage {
  const needle = search.toLowerCase();
  const matching = entries.filter((entry) => entry.address.toLowerCase().includes(needle)).reverse();
  return { items: matching.slice(offset, offset + limit), total: matching.length, limit, offset };
}

/** The query with its defaults, or why it is invalid. */
export function parseIdentityQuery(query: unknown): Result<Required<AdminIdentityQuery>, RuntimeError> {
  const valid = validateRequest(IDENTITY_QUERY, query);
  if (valid.err) return valid;
  const { search = "", limit = DEFAULT_PAGE_SIZE, offset = 0 } = valid.val;
  if (limit > MAX_PAGE_SIZE) {
    return fail("error.runtime.validation.invalidPropertyValue", `limit must be at most ${MAX_PAGE_SIZE}`);
  }
  return succeed({ search, limit, offset });
}

/**
 * The identities of the page `query` asks for, and how many match. Sorted by creation, stably: identities
 * created in one millisecond keep the order the storage lists them in, which is the order of their writing.
 */
export function pageOf<T extends { id: string; createdAt: string }>(
  identities: readonly T[],
  { search, limit, offset }: Required<AdminIdentityQuery>,
): { page: T[]; total: number } {
  const needle = search.toLowerCase();
  const matching = identities
    .filter((identity) => identity.id.toLowerCase().includes(needle))
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  return { page: matching.slice(offset, offset + limit), total: matching.length };
}

/** The identity as the Admin UI shows it, from its processes as they stand now (oldest first). */
export function adminIdentityOf(
  address: string,
  createdAt: string,
  processes: readonly StoredIdentityDeletionProcess[],
): AdminIdentityDetails {
  const deletionProcesses = processes.map(adminProcessOf);
  const active = deletionProcesses.find(isActive);
  return {
    address,
    createdAt,
    status: statusOf(active),
    ...(active === undefined ? {} : { activeDeletionProcess: active }),
    deletionProcesses,
  };
}

/** The same identity without its process history: what a page lists. */
export function withoutHistory({
  deletionProcesses: _history,
  ...identity
}: AdminIdentityDetails): AdminIdentity {
  return identity;
}

function statusOf(active: AdminIdentityDeletionProcess | undefined): AdminIdentityStatus {
  if (active?.status !== "Approved") return "Active";
  return active.identityDeleted ? "Deleted" : "ToBeDeleted";
}

function adminProcessOf(process: StoredIdentityDeletionProcess): AdminIdentityDeletionProcess {
  return { ...toProcessDTO(process), identityDeleted: process.identityDeleted === true };
}
