import { createAddress, isAddress, isHost } from "../core/address.js";
import { SystemClock } from "../core/clock.js";
import type { Clock } from "../core/clock.js";
import { fail, foundOr, succeed, unexpected } from "../core/errors.js";
import type { RuntimeError, RuntimeResult } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import { RecordCollection } from "../core/record-collection.js";
import type { Err } from "../core/result.js";
import type { StorageAdapter, StorageOperations } from "../core/storage.js";
import { combined } from "../core/unit-of-work.js";
import type { CommitAndDeliver, Delivery } from "../core/unit-of-work.js";
import { DUE_JOBS_CHANGED, LocalIdentityDeletions } from "../identity-deletion/local-backbone.js";
import type { IdentityDeletionDecision, IdentityDeletionProcessDTO } from "../identity-deletion/model.js";
import { localMessages } from "../messages/local-backbone.js";
import type { LocalMessages } from "../messages/local-backbone.js";
import type { MessagePush } from "../messages/local-backbone.js";
import type { MessageDTO } from "../messages/model.js";
import type { NewRelationshipTemplate, RelationshipStatusChange } from "../relationships/backbone.js";
import { localRelationships } from "../relationships/local-backbone.js";
import type { LocalRelationships } from "../relationships/local-backbone.js";
import type { RelationshipPush } from "../relationships/local-backbone.js";
import type { RelationshipDTO, RelationshipTemplateDTO } from "../relationships/model.js";
import { lokiStorage } from "../storage/loki-storage.js";
import {
  adminIdentityOf,
  auditEntryOf,
  auditPageOf,
  pageOf,
  parseAuditContext,
  parseIdentityQuery,
  withoutHistory,
} from "./admin.js";
import type { AdminAuditEntry, BackboneAdmin } from "./admin.js";
import type { Backbone, BackboneInbox } from "./backbone.js";
import { PushDelivery } from "./delivery.js";
import type { Push } from "./delivery.js";
import { DueJobScheduler } from "./scheduler.js";

/**
 * How a LocalBackbone is set up; every option has a default.
 * @example
 * const clock = new ManualClock(new Date("2030-01-01T00:00:00.000Z"));
 * const backbone = new LocalBackbone({ clock, gracePeriodInDays: 30, host: "backbone.example.com" });
 */
export interface LocalBackboneOptions {
  /** Where the Backbone keeps its state; default: in memory. */
  storage?: StorageAdapter;
  /** Default: the system clock. */
  clock?: Clock;
  /** Length of the grace period of an approved IdentityDeletionProcess; default 14. */
  gracePeriodInDays?: number;
  /** How long an IdentityDeletionProcess started by the Admin UI waits for approval; default 7. */
  approvalPeriodInDays?: number;
  /** The host in the addresses this Backbone hands out; default "localhost". */
  host?: string;
  /**
   * Whether the Backbone applies due expiries by itself, on a timer that never keeps the process alive.
   * Default: true with the system clock, false with any other (call `runDueJobs()` after moving it).
   */
  runsDueJobsItself?: boolean;
  /** Told about failures of a runtime while it received a push, or of a self-run job; default: `console.error`. */
  onDeliveryError?: (error: unknown, address: string) => void;
}

interface IdentityRecord {
  /** The identity's address. */
  id: string;
  createdAt: string;
}

/** The parts of the Backbone, over one transaction (or, for reads, over the storage itself). */
interface Parts {
  readonly identities: RecordCollection<IdentityRecord>;
  readonly relationships: LocalRelationships;
  readonly messages: LocalMessages;
  readonly deletions: LocalIdentityDeletions<RelationshipPush | MessagePush>;
  /** The admin audit log: written only, never read, in a transaction, so it widens no transaction's scope. */
  readonly audit: RecordCollection<AdminAuditEntry>;
}

/**
 * The embedded Backbone: identities, relationship templates, relationships, message relay and identity
 * deletion. Runtimes on the same LocalBackbone reach each other; whatever one does reaches the others before
 * its call resolves. Each capability's part lives in its own folder (`<capability>/local-backbone.ts`); this
 * class composes them and offers the Admin API. Push delivery and the due-job timer have files of their own.
 *
 * Every change is one transaction of the storage, with its parts made over that transaction: a rule's check
 * and the write it guards are one serializable unit, so the rules hold however many LocalBackbones (in as
 * many processes and hosts) share the storage, and changes of different identities run side by side.
 * @example
 * const backbone = new LocalBackbone();
 * const alice = await createRuntime({ backbone });
 * const bob = await createRuntime({ backbone });
 * // … alice and bob relate and exchange messages …
 * await alice.close();
 * await bob.close();
 * await backbone.close();
 */
export class LocalBackbone implements Backbone {
  readonly clock: Clock;
  /** The host in the addresses this Backbone hands out. */
  readonly host: string;
  /** Length of the grace period of an approved IdentityDeletionProcess. */
  readonly gracePeriodInDays: number;
  /** How long an IdentityDeletionProcess started by the Admin UI waits for approval. */
  readonly approvalPeriodInDays: number;
  /** The Admin API: what the Backbone Admin UI can do. */
  readonly admin: BackboneAdmin;

  readonly #storage: StorageAdapter;
  readonly #ownsStorage: boolean;
  readonly #delivery: PushDelivery;
  /** The parts over the storage itself, for what only reads. */
  readonly #reading: Parts;
  readonly #onDeliveryError: (error: unknown, address: string) => void;
  /** Present when the Backbone runs its due jobs itself. */
  readonly #scheduler: DueJobScheduler | undefined;
  #closed = false;
  /** Calls in flight, which `close()` waits for. */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Ends the subscription to the storage's notifications. */
  readonly #unsubscribe: () => void;

  constructor(options: LocalBackboneOptions = {}) {
    this.host = options.host ?? "localhost";
    if (!isHost(this.host))
      throw new RangeError(`host must be "localhost" or a DNS name, not ${JSON.stringify(this.host)}`);
    this.gracePeriodInDays = nonNegative("gracePeriodInDays", options.gracePeriodInDays ?? 14);
    this.approvalPeriodInDays = nonNegative("approvalPeriodInDays", options.approvalPeriodInDays ?? 7);
    this.clock = options.clock ?? new SystemClock();
    this.#ownsStorage = options.storage === undefined;
    const storage = options.storage ?? lokiStorage();
    this.#storage = storage;
    this.#onDeliveryError =
      options.onDeliveryError ??
      ((error, address) => console.error(`identity-runtime: delivery to ${address} failed`, error));
    this.#delivery = new PushDelivery({ storage, onDeliveryError: this.#onDeliveryError });
    // What other Backbones on the storage (in any process) did: their pushes reach the runtimes connected
    // here, and their changes of deletion processes set the due-job timer anew.
    this.#unsubscribe = storage.subscribe((topic) => {
      if (topic !== DUE_JOBS_CHANGED) this.#delivery.wake(topic);
      if (topic === DUE_JOBS_CHANGED || topic === undefined) void this.#rescheduleDueJobs();
    });
    this.#reading = this.#partsOver(storage, () => {
      throw new Error("identity-runtime: a change of the Backbone outside a transaction");
    });
    const runsDueJobsItself = options.runsDueJobsItself ?? this.clock instanceof SystemClock;
    this.#scheduler = runsDueJobsItself
      ? new DueJobScheduler({
          clock: this.clock,
          nextDueInstant: () => this.#reading.deletions.nextDueInstant(),
          run: () => void this.runDueJobs(),
        })
      : undefined;
    // On a storage that outlived a restart, expiries may have become due while the Backbone was down. (A call
    // about an identity applies what is due for it first, so none of them waits for this.)
    if (runsDueJobsItself) void this.runDueJobs();
    this.admin = {
      startIdentityDeletionProcess: (address, audit) => {
        const context = audit === undefined ? undefined : parseAuditContext(audit);
        if (context?.err) return Promise.resolve(context);
        return this.#deletionChange(address, async (parts) => {
          const identity = await identityRecord(parts, address);
          const started = identity.err ? identity : await parts.deletions.startByAdmin(address);
          // In the start's own transaction: a started process always has its entry, and a refusal one too
          // (unless there was no address at all, which is about no identity).
          if (context !== undefined && isAddress(address)) {
            const entry = auditEntryOf(context.val, address, this.clock.now(), started);
            await parts.audit.commit([parts.audit.put(entry)]);
          }
          return started;
        });
      },
      listAuditLog: (query) =>
        this.#read(async (parts) => {
          const parsed = parseIdentityQuery(query);
          return parsed.err ? parsed : succeed(auditPageOf(await parts.audit.list(), parsed.val));
        }),
      listIdentities: (query) =>
        this.#read(async (parts) => {
          const parsed = parseIdentityQuery(query);
          if (parsed.err) return parsed;
          const { page, total } = pageOf(await parts.identities.list(), parsed.val);
          const items = await Promise.all(
            page.map(async ({ id, createdAt }) =>
              withoutHistory(adminIdentityOf(id, createdAt, await parts.deletions.listAsOfNow(id))),
            ),
          );
          return succeed({ items, total, limit: parsed.val.limit, offset: parsed.val.offset });
        }),
      getIdentity: (address) =>
        this.#read(async (parts) => {
          const identity = await identityRecord(parts, address);
          if (identity.err) return identity;
          const { id, createdAt } = identity.val;
          return succeed(adminIdentityOf(id, createdAt, await parts.deletions.listAsOfNow(id)));
        }),
    };
  }

  /**
   * Applies every expiry due at `clock.now()`: undecided processes past their approval period become
   * Cancelled, and identities past their grace period are deleted. Runtimes are told before it resolves.
   * Each identity's expiries are one transaction: when several Backbones run them at once, each is applied once.
   */
  runDueJobs(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#tracked(async () => {
      for (const address of await this.#reading.deletions.dueAddresses()) {
        await this.#transaction(this.#deletionScope(address), (parts) => parts.deletions.applyDue(address));
      }
      await this.#scheduler?.reschedule();
    }).catch((error: unknown) => {
      // The jobs stay due and are tried again: on the next call, and (when it runs them itself) on a timer.
      this.#onDeliveryError(error, "(due jobs)");
      this.#scheduler?.retryLater();
    });
  }

  initiateIdentityDeletionProcess(
    address: string,
    lengthOfGracePeriodInDays?: number,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    return this.#deletionChange(address, (parts) =>
      parts.deletions.initiate(address, lengthOfGracePeriodInDays),
    );
  }

  decideIdentityDeletionProcess(
    address: string,
    decision: IdentityDeletionDecision,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    return this.#deletionChange(address, (parts) => parts.deletions.decide(address, decision));
  }

  getIdentityDeletionProcesses(address: string): Promise<RuntimeResult<IdentityDeletionProcessDTO[]>> {
    // What became due is applied first: a transaction, though the caller only reads.
    return this.#whileOpen(this.#deletionScope(address), async (parts) =>
      succeed(await parts.deletions.list(address)),
    );
  }

  /** Creates a new identity with an address on `host`; resolves to that address. */
  createIdentity(): Promise<string> {
    return this.#tracked(async () => {
      const address = createAddress(this.host);
      await this.#reading.identities.save({ id: address, createdAt: this.clock.now().toISOString() });
      return address;
    });
  }

  connect(address: string, inbox: BackboneInbox): Promise<() => void> {
    return this.#tracked(() => this.#delivery.connect(address, inbox));
  }

  handOverWaiting(address: string): Promise<void> {
    return this.#tracked(() => this.#delivery.deliver([{ address }]));
  }

  /** Creates a template of `owner`, from which peers create relationships to it. */
  createRelationshipTemplate(
    owner: string,
    template: NewRelationshipTemplate,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>> {
    return this.#actingAs(owner, fixedScope([owner]), async (parts) =>
      succeed(await parts.relationships.createTemplate(owner, template)),
    );
  }

  /** The template with this id; `error.runtime.recordNotFound` if there is none. */
  getRelationshipTemplate(
    _reader: string,
    templateId: string,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>> {
    // Never blocked by the creator's deletion.
    return this.#read((parts) => parts.relationships.getTemplate(templateId));
  }

  canCreateRelationship(requestor: string, templateId: string): Promise<RuntimeResult<void>> {
    return this.#whileOpen(this.#creationScope(requestor, templateId), (parts) =>
      parts.relationships.canCreate(requestor, templateId),
    );
  }

  /** Creates a Pending relationship of `requestor` to the template's owner; as `requestor` sees it. */
  createRelationship(
    requestor: string,
    templateId: string,
    creationContent?: JsonValue,
  ): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#actingAs(requestor, this.#creationScope(requestor, templateId), (parts) =>
      parts.relationships.create(requestor, templateId, creationContent),
    );
  }

  /** Accepts, rejects, revokes or terminates the relationship for `actor`; as `actor` sees it then. */
  changeRelationship(
    actor: string,
    relationshipId: string,
    change: RelationshipStatusChange,
  ): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#actingAs(actor, this.#relationshipScope(actor, relationshipId), (parts) =>
      parts.relationships.change(actor, relationshipId, change),
    );
  }

  decomposeRelationship(actor: string, relationshipId: string): Promise<RuntimeResult<void>> {
    return this.#actingAs(actor, this.#relationshipScope(actor, relationshipId), (parts) =>
      parts.relationships.decompose(actor, relationshipId),
    );
  }

  sendMessage(
    sender: string,
    recipients: readonly string[],
    content: JsonValue,
  ): Promise<RuntimeResult<MessageDTO>> {
    return this.#actingAs(sender, fixedScope([sender, ...recipients]), (parts) =>
      parts.messages.send(sender, recipients, content),
    );
  }

  /**
   * Refuses further calls (`error.runtime.runtimeClosed`), stops the due-job timer, waits for calls in flight,
   * disconnects every runtime and closes the storage if the Backbone made it itself.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#scheduler?.stop();
    this.#unsubscribe();
    await Promise.allSettled([...this.#inFlight]);
    await this.#delivery.close();
    if (this.#ownsStorage) await this.#storage.close();
  }

  /**
   * The parts over `storage`, wired to each other: relationships and messages ask where an identity stands
   * in its deletion, and a deletion tells both. `commit` writes a unit of work with its pushes in the outbox.
   */
  #partsOver(storage: StorageOperations, commit: CommitAndDeliver<Push>): Parts {
    const clock = this.clock;
    const standing = (address: string) => deletions.standing(address);
    const relationships = localRelationships({ storage, clock, standing, commit });
    const messages = localMessages({ storage, clock, standing, commit });
    const deletions = new LocalIdentityDeletions<RelationshipPush | MessagePush>({
      storage,
      clock,
      gracePeriodInDays: this.gracePeriodInDays,
      approvalPeriodInDays: this.approvalPeriodInDays,
      // What a deletion entails for the others, in the order the runtimes hear it.
      consequences: async (address, change) =>
        combined<RelationshipPush | MessagePush>([
          await relationships.onDeletion(address, change),
          await messages.onDeletion(address, change),
        ]),
      commit,
    });
    return {
      identities: new RecordCollection(storage, IDENTITIES),
      relationships,
      messages,
      deletions,
      audit: new RecordCollection(storage, AUDIT_LOG),
    };
  }

  /**
   * One change of the Backbone: `work` runs in a transaction about `scope` on parts made over it (again from
   * the start, should the storage run it again); once committed, the runtimes connected here are handed
   * their pushes.
   */
  async #transaction<T>(scope: Scope, work: (parts: Parts) => Promise<T>): Promise<T> {
    for (;;) {
      const names = await scope.names(this.#reading);
      let pushes: Delivery<Push>[] = [];
      const result = await this.#storage.transaction(async (tx) => {
        const attempt: Delivery<Push>[] = [];
        pushes = attempt;
        const parts = this.#partsOver(tx, async ({ changes, deliveries }) => {
          await tx.commit([...changes, ...this.#delivery.entries(deliveries)]);
          attempt.push(...deliveries);
        });
        // Whom the change is about was read before the transaction; where that may have grown since, it is
        // read again under the locks, and a larger scope starts over.
        if (scope.mayGrow && !(await scope.names(parts)).every((name) => names.includes(name))) {
          return SCOPE_GREW;
        }
        return work(parts);
      }, names);
      if (result === SCOPE_GREW) continue;
      await this.#delivery.deliver(pushes);
      return result;
    }
  }

  /** A deletion changes the relationships of the identity with each of its peers: they are in its scope. */
  #deletionScope(address: string): Scope {
    return {
      names: async (parts) => [address, ...(await parts.relationships.peersOf(address))],
      mayGrow: true,
    };
  }

  /** A relationship from a template is about the requestor and the template's owner. */
  #creationScope(requestor: string, templateId: string): Scope {
    return {
      names: async (parts) => {
        const owner = await parts.relationships.ownerOf(templateId);
        return owner === undefined ? [requestor] : [requestor, owner];
      },
    };
  }

  /** A change of a relationship is about both its sides (and the actor, who may be neither). */
  #relationshipScope(actor: string, relationshipId: string): Scope {
    return { names: async (parts) => [actor, ...(await parts.relationships.partiesOf(relationshipId))] };
  }

  /** A change of a deletion process: then the due-job timer is set anew. */
  #deletionChange(
    address: string,
    work: (parts: Parts) => Promise<RuntimeResult<IdentityDeletionProcessDTO>>,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    return this.#whileOpen(this.#deletionScope(address), work).then(async (changed) => {
      if (changed.ok) await this.#rescheduleDueJobs();
      return changed;
    });
  }

  async #rescheduleDueJobs(): Promise<void> {
    if (this.#closed) return;
    await this.#scheduler?.reschedule().catch(() => this.#scheduler?.retryLater());
  }

  /** A call an identity makes: refused with `error.runtime.identityDeleted` once that identity is deleted. */
  #actingAs<T>(
    actor: string,
    scope: Scope,
    work: (parts: Parts) => Promise<RuntimeResult<T>>,
  ): Promise<RuntimeResult<T>> {
    return this.#whileOpen(
      scope,
      async (parts) => (await refuseDeleted(parts, actor)) ?? (await work(parts)),
    );
  }

  /**
   * A call that answers with a Result, as one transaction: once closed, `error.runtime.runtimeClosed`; a
   * failing storage answers like a facade does, error.runtime.storage, never a rejection.
   */
  #whileOpen<T>(scope: Scope, work: (parts: Parts) => Promise<RuntimeResult<T>>): Promise<RuntimeResult<T>> {
    if (this.#closed) return Promise.resolve(fail("error.runtime.runtimeClosed", "backbone"));
    return this.#tracked(() => this.#transaction(scope, work)).catch((error: unknown) => unexpected(error));
  }

  /**
   * A call that only reads, outside any transaction (so it blocks no change and no change blocks it): once
   * closed, `error.runtime.runtimeClosed`; a failing storage answers error.runtime.storage, never a rejection.
   */
  #read<T>(work: (parts: Parts) => Promise<RuntimeResult<T>>): Promise<RuntimeResult<T>> {
    if (this.#closed) return Promise.resolve(fail("error.runtime.runtimeClosed", "backbone"));
    return this.#tracked(() => work(this.#reading)).catch((error: unknown) => unexpected(error));
  }

  /** Runs `work`, which `close()` then waits for. */
  #tracked<T>(work: () => Promise<T>): Promise<T> {
    const running = work();
    this.#inFlight.add(running);
    const forget = () => void this.#inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }
}

const IDENTITIES = "backbone/identities";
const AUDIT_LOG = "backbone/adminAuditLog";

/**
 * Whom a change of the Backbone is about: the identities whose records it reads and writes, and so the scope
 * of its transaction (see `StorageAdapter.transaction`). Every change names each identity whose records it
 * touches, so two changes that touch a common record share a name, and run one after the other.
 */
interface Scope {
  names(parts: Parts): Promise<string[]>;
  /** Whether the names may change while the change waits for its locks (a deletion's peers). */
  readonly mayGrow?: boolean;
}

function fixedScope(names: readonly string[]): Scope {
  return { names: () => Promise.resolve([...names]) };
}

/** What a transaction answers when its scope grew before it held its locks: it is run again. */
const SCOPE_GREW: unique symbol = Symbol("scope grew");

/** The Backbone's record of the identity; refused when `address` is no address or one the Backbone never made. */
async function identityRecord(parts: Parts, address: string): Promise<RuntimeResult<IdentityRecord>> {
  if (!isAddress(address)) {
    return fail("error.runtime.validation.invalidPropertyValue", "address must match the address pattern");
  }
  return foundOr(await parts.identities.get(address), "Identity", address);
}

async function refuseDeleted(parts: Parts, actor: string): Promise<Err<RuntimeError> | undefined> {
  const standing = await parts.deletions.standing(actor);
  return standing.kind === "deleted" ? fail("error.runtime.identityDeleted", actor) : undefined;
}

// The days JavaScript dates span on either side of 1970: a longer period could never end.
const MAX_PERIOD_IN_DAYS = 100_000_000;

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > MAX_PERIOD_IN_DAYS) {
    throw new RangeError(`${name} must be a number from 0 to ${MAX_PERIOD_IN_DAYS}`);
  }
  return value;
}
