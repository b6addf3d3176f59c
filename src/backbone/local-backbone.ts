import { createAddress, isAddress, isHost } from "../core/address.js";
import { SystemClock } from "../core/clock.js";
import type { Clock } from "../core/clock.js";
import { fail, succeed, unexpected } from "../core/errors.js";
import type { RuntimeError, RuntimeResult } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import { RecordCollection } from "../core/record-collection.js";
import type { Err } from "../core/result.js";
import type { StorageAdapter } from "../core/storage.js";
import { combined } from "../core/unit-of-work.js";
import type { UnitOfWork } from "../core/unit-of-work.js";
import { LocalIdentityDeletions } from "../identity-deletion/local-backbone.js";
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
import type { Backbone, BackboneInbox } from "./backbone.js";
import { PushDelivery } from "./delivery.js";
import type { Push } from "./delivery.js";
import { DueJobScheduler } from "./scheduler.js";

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

/** What the Backbone Admin UI can do. */
export interface BackboneAdmin {
  /**
   * Starts the deletion of an identity on its behalf (support ticket, GDPR e-mail): a process
   * WaitingForApproval that the identity approves or rejects within the approval period.
   */
  startIdentityDeletionProcess(address: string): Promise<RuntimeResult<IdentityDeletionProcessDTO>>;
}

interface IdentityRecord {
  /** The identity's address. */
  id: string;
  createdAt: string;
}

/**
 * The embedded Backbone: identities, relationship templates, relationships, message relay and identity
 * deletion, in-process. Runtimes on the same LocalBackbone reach each other; whatever one does reaches the
 * others before its call resolves. Each capability's part lives in its own folder (`<capability>/local-backbone.ts`);
 * this class composes them, runs mutations one at a time (so check-then-write rules hold), and offers the
 * Admin API. Push delivery and the due-job timer have files of their own beside it.
 */
export class LocalBackbone implements Backbone {
  readonly clock: Clock;
  readonly host: string;
  readonly gracePeriodInDays: number;
  readonly approvalPeriodInDays: number;
  readonly admin: BackboneAdmin;

  readonly #storage: StorageAdapter;
  readonly #ownsStorage: boolean;
  readonly #identities: RecordCollection<IdentityRecord>;
  readonly #delivery: PushDelivery;
  readonly #relationships: LocalRelationships;
  readonly #messages: LocalMessages;
  readonly #deletions: LocalIdentityDeletions<RelationshipPush | MessagePush>;
  readonly #onDeliveryError: (error: unknown, address: string) => void;
  /** Present when the Backbone runs its due jobs itself. */
  readonly #scheduler: DueJobScheduler | undefined;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

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
    this.#identities = new RecordCollection(storage, "backbone/identities");
    this.#delivery = new PushDelivery({ storage, onDeliveryError: this.#onDeliveryError });
    const clock = this.clock;
    const commit = (work: UnitOfWork<Push>) => this.#delivery.commitAndDeliver(work);
    // Relationships and messages ask where an identity stands in its deletion, and a deletion tells both:
    // the parts refer to each other through these closures, called only once all of them exist.
    const standing = (address: string) => this.#deletions.standing(address);
    this.#relationships = localRelationships({ storage, clock, standing, commit });
    this.#messages = localMessages({ storage, clock, standing, commit });
    this.#deletions = new LocalIdentityDeletions({
      storage,
      clock,
      gracePeriodInDays: this.gracePeriodInDays,
      approvalPeriodInDays: this.approvalPeriodInDays,
      // What a deletion entails for the others, in the order the runtimes hear it.
      consequences: async (address, change) =>
        combined<RelationshipPush | MessagePush>([
          await this.#relationships.onDeletion(address, change),
          await this.#messages.onDeletion(address, change),
        ]),
      commit,
    });
    const runsDueJobsItself = options.runsDueJobsItself ?? this.clock instanceof SystemClock;
    this.#scheduler = runsDueJobsItself
      ? new DueJobScheduler({
          clock,
          nextDueInstant: () => this.#deletions.nextDueInstant(),
          run: () => void this.runDueJobs(),
        })
      : undefined;
    // On a storage that outlived a restart, expiries may have become due while the Backbone was down: they are
    // applied before any call of this instance runs (calls queue behind it).
    if (runsDueJobsItself) void this.runDueJobs();
    this.admin = {
      startIdentityDeletionProcess: (address) =>
        this.#deletionChange(async () => {
          if (!isAddress(address)) {
            return fail(
              "error.runtime.validation.invalidPropertyValue",
              "address must match the address pattern",
            );
          }
          if ((await this.#identities.get(address)) === undefined) {
            return fail("error.runtime.recordNotFound", "Identity", address);
          }
          return this.#deletions.startByAdmin(address);
        }),
    };
  }

  /**
   * Applies every expiry due at `clock.now()`: undecided processes past their approval period become
   * Cancelled, and identities past their grace period are deleted. Runtimes are told before it resolves.
   */
  runDueJobs(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#exclusively(async () => {
      await this.#deletions.applyDue();
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
    return this.#deletionChange(() => this.#deletions.initiate(address, lengthOfGracePeriodInDays));
  }

  decideIdentityDeletionProcess(
    address: string,
    decision: IdentityDeletionDecision,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    return this.#deletionChange(() => this.#deletions.decide(address, decision));
  }

  getIdentityDeletionProcesses(address: string): Promise<RuntimeResult<IdentityDeletionProcessDTO[]>> {
    return this.#whileOpen(async () => succeed(await this.#deletions.list(address)));
  }

  async createIdentity(): Promise<string> {
    const address = createAddress(this.host);
    await this.#identities.save({ id: address, createdAt: this.clock.now().toISOString() });
    return address;
  }

  connect(address: string, inbox: BackboneInbox): Promise<() => void> {
    return this.#exclusively(() => this.#delivery.connect(address, inbox));
  }

  createRelationshipTemplate(
    owner: string,
    template: NewRelationshipTemplate,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>> {
    return this.#actingAs(owner, async () =>
      succeed(await this.#relationships.createTemplate(owner, template)),
    );
  }

  async getRelationshipTemplate(
    _reader: string,
    templateId: string,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>> {
    // A read: not queued behind mutations, and never blocked by the creator's deletion.
    if (this.#closed) return fail("error.runtime.runtimeClosed", "backbone");
    try {
      return await this.#relationships.getTemplate(templateId);
    } catch (error) {
      return unexpected(error);
    }
  }

  canCreateRelationship(requestor: string, templateId: string): Promise<RuntimeResult<void>> {
    return this.#whileOpen(() => this.#relationships.canCreate(requestor, templateId));
  }

  createRelationship(
    requestor: string,
    templateId: string,
    creationContent?: JsonValue,
  ): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#actingAs(requestor, () =>
      this.#relationships.create(requestor, templateId, creationContent),
    );
  }

  changeRelationship(
    actor: string,
    relationshipId: string,
    change: RelationshipStatusChange,
  ): Promise<RuntimeResult<RelationshipDTO>> {
    return this.#actingAs(actor, () => this.#relationships.change(actor, relationshipId, change));
  }

  decomposeRelationship(actor: string, relationshipId: string): Promise<RuntimeResult<void>> {
    return this.#actingAs(actor, () => this.#relationships.decompose(actor, relationshipId));
  }

  sendMessage(
    sender: string,
    recipients: readonly string[],
    content: JsonValue,
  ): Promise<RuntimeResult<MessageDTO>> {
    return this.#actingAs(sender, () => this.#messages.send(sender, recipients, content));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#scheduler?.stop();
    await this.#queue.catch(() => undefined);
    this.#delivery.disconnectAll();
    if (this.#ownsStorage) await this.#storage.close();
  }

  /** A change of a deletion process: then the due-job timer is set anew. */
  #deletionChange(
    work: () => Promise<RuntimeResult<IdentityDeletionProcessDTO>>,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    return this.#whileOpen(async () => {
      const changed = await work();
      if (changed.ok) await this.#scheduler?.reschedule();
      return changed;
    });
  }

  /** A call an identity makes: refused with `error.runtime.identityDeleted` once that identity is deleted. */
  #actingAs<T>(actor: string, work: () => Promise<RuntimeResult<T>>): Promise<RuntimeResult<T>> {
    return this.#whileOpen(async () => (await this.#refuseDeleted(actor)) ?? (await work()));
  }

  async #refuseDeleted(actor: string): Promise<Err<RuntimeError> | undefined> {
    const standing = await this.#deletions.standing(actor);
    return standing.kind === "deleted" ? fail("error.runtime.identityDeleted", actor) : undefined;
  }

  /** Like `#exclusively`, for calls that answer with a Result: once closed, `error.runtime.runtimeClosed`. */
  #whileOpen<T>(work: () => Promise<RuntimeResult<T>>): Promise<RuntimeResult<T>> {
    if (this.#closed) return Promise.resolve(fail("error.runtime.runtimeClosed", "backbone"));
    // A failing storage answers like a facade does: error.runtime.storage, never a rejection.
    return this.#exclusively(work).catch((error: unknown) => unexpected(error));
  }

  /** Runs mutations one after another, so a check and the write it guards cannot interleave with another. */
  #exclusively<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

// The days JavaScript dates span on either side of 1970: a longer period could never end.
const MAX_PERIOD_IN_DAYS = 100_000_000;

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > MAX_PERIOD_IN_DAYS) {
    throw new RangeError(`${name} must be a number from 0 to ${MAX_PERIOD_IN_DAYS}`);
  }
  return value;
}
