import { createAddress, isAddress, isHost } from "../core/address.js";
import { SystemClock } from "../core/clock.js";
import type { Clock } from "../core/clock.js";
import { fail, succeed, unexpected } from "../core/errors.js";
import type { RuntimeError, RuntimeResult } from "../core/errors.js";
import type { Err } from "../core/result.js";
import { generateId } from "../core/ids.js";
import { cloneJson } from "../core/json.js";
import type { JsonValue } from "../core/json.js";
import { RecordCollection } from "../core/record-collection.js";
import { SlotTakenError } from "../core/storage.js";
import type { StorageAdapter, StorageChange } from "../core/storage.js";
import { toProcessDTO } from "../identity-deletion/model.js";
import type {
  IdentityDeletionDecision,
  IdentityDeletionProcessDTO,
  StoredIdentityDeletionProcess,
} from "../identity-deletion/model.js";
import type { MessageDTO } from "../messages/model.js";
import { isNotification } from "../messages/model.js";
import {
  applyPeerDeletion,
  existingRelationshipSlot,
  isVisibleTo,
  otherParty,
  pairSlot,
  projectRelationship,
  transition,
} from "../relationships/model.js";
import type {
  BackboneRelationship,
  PeerDeletionChange,
  PeerDeletionEvent,
  RelationshipDTO,
  RelationshipTemplateDTO,
} from "../relationships/model.js";
import { lokiStorage } from "../storage/loki-storage.js";
import type {
  Backbone,
  BackboneInbox,
  NewRelationshipTemplate,
  RelationshipStatusChange,
} from "../backbone/backbone.js";
import { IdentityDeletions } from "./identity-deletions.js";

// setTimeout's longest delay; a later due instant is reached in steps.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

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

/** What the Backbone pushes to a runtime, as data, so that it can wait in the outbox while the runtime is away. */
type Push =
  | { kind: "relationshipChanged"; relationship: RelationshipDTO; peerDeletion?: PeerDeletionEvent }
  | { kind: "messageReceived"; message: MessageDTO }
  | { kind: "identityDeletionProcessChanged"; process: IdentityDeletionProcessDTO };

/** A push for the runtime of `address`. */
interface Delivery {
  address: string;
  push: Push;
}

/** What one change of the Backbone writes, and what it tells runtimes once written. */
interface UnitOfWork {
  changes: StorageChange[];
  deliveries: Delivery[];
}

interface OutboxEntry {
  id: string;
  recipient: string;
  push: Push;
}

/** A Notification kept for a recipient in deletion, delivered if it cancels, dropped if it is deleted. */
interface HeldNotification {
  /** `<recipient>/<message id>` */
  id: string;
  recipient: string;
  message: MessageDTO;
}

interface TemplateRecord extends RelationshipTemplateDTO {
  /** How many relationships have been created from the template. */
  allocations: number;
}

/**
 * The embedded Backbone: identities, relationship templates, relationships and message relay, in-process.
 * Runtimes on the same LocalBackbone reach each other; whatever one does reaches the others before its call
 * resolves. Mutations run one at a time, so check-then-write rules (one relationship per pair) hold.
 */
export class LocalBackbone implements Backbone {
  readonly clock: Clock;
  readonly host: string;
  readonly gracePeriodInDays: number;
  readonly approvalPeriodInDays: number;
  readonly admin: BackboneAdmin;

  private readonly storage: StorageAdapter;
  private readonly ownsStorage: boolean;
  private readonly identities: RecordCollection<IdentityRecord>;
  private readonly templates: RecordCollection<TemplateRecord>;
  private readonly relationships: RecordCollection<BackboneRelationship>;
  private readonly inboxes = new Map<string, BackboneInbox>();
  private readonly onDeliveryError: (error: unknown, address: string) => void;
  private readonly deletions: IdentityDeletions;
  private readonly heldNotifications: RecordCollection<HeldNotification>;
  /** Pushes for runtimes that are not connected, delivered when they connect. */
  private readonly outbox: RecordCollection<OutboxEntry>;
  private readonly runsDueJobsItself: boolean;
  private timer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: LocalBackboneOptions = {}) {
    this.host = options.host ?? "localhost";
    if (!isHost(this.host))
      throw new RangeError(`host must be "localhost" or a DNS name, not ${JSON.stringify(this.host)}`);
    this.gracePeriodInDays = nonNegative("gracePeriodInDays", options.gracePeriodInDays ?? 14);
    this.approvalPeriodInDays = nonNegative("approvalPeriodInDays", options.approvalPeriodInDays ?? 7);
    this.clock = options.clock ?? new SystemClock();
    this.ownsStorage = options.storage === undefined;
    this.storage = options.storage ?? lokiStorage();
    this.onDeliveryError =
      options.onDeliveryError ??
      ((error, address) => console.error(`identity-runtime: delivery to ${address} failed`, error));
    this.identities = new RecordCollection(this.storage, "backbone/identities");
    this.templates = new RecordCollection(this.storage, "backbone/relationshipTemplates", (template) => ({
      peers: [template.createdBy],
    }));
    this.relationships = new RecordCollection(this.storage, "backbone/relationships", (relationship) => {
      const slot = existingRelationshipSlot(relationship);
      const peers = [relationship.from, relationship.to];
      return slot === undefined ? { peers } : { slot, peers };
    });
    this.outbox = new RecordCollection(this.storage, "backbone/outbox", (entry) => ({
      peers: [entry.recipient],
    }));
    this.heldNotifications = new RecordCollection(this.storage, "backbone/heldNotifications", (held) => ({
      peers: [held.recipient],
    }));
    this.deletions = new IdentityDeletions(
      this.storage,
      this.clock,
      this.gracePeriodInDays,
      this.approvalPeriodInDays,
    );
    this.runsDueJobsItself = options.runsDueJobsItself ?? this.clock instanceof SystemClock;
    // On a storage that outlived a restart, expiries may have become due while the Backbone was down: they are
    // applied before any call of this instance runs (calls queue behind it).
    if (this.runsDueJobsItself) {
      void this.runDueJobs();
    }
    this.admin = {
      startIdentityDeletionProcess: (address) =>
        this.whileOpen(async () => {
          if (!isAddress(address)) {
            return fail(
              "error.runtime.validation.invalidPropertyValue",
              "address must match the address pattern",
            );
          }
          if ((await this.identities.get(address)) === undefined) {
            return fail("error.runtime.recordNotFound", "Identity", address);
          }
          await this.settle(address);
          const started = this.deletions.startByAdmin(address);
          const recorded = await this.recordProcess(started, { tellOwner: true });
          if (recorded.err) return recorded;
          await this.reschedule();
          return succeed(toProcessDTO(started));
        }),
    };
  }

  /**
   * Applies every expiry due at `clock.now()`: undecided processes past their approval period become
   * Cancelled, and identities past their grace period are deleted. Runtimes are told before it resolves.
   */
  runDueJobs(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.exclusively(async () => {
      await this.settle();
      this.retryDelayMs = 0;
      await this.reschedule();
    }).catch((error: unknown) => {
      // The jobs stay due and are tried again: on the next call, and (when it runs them itself) on a timer.
      this.onDeliveryError(error, "(due jobs)");
      this.retryLater();
    });
  }

  initiateIdentityDeletionProcess(
    address: string,
    lengthOfGracePeriodInDays?: number,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    return this.whileOpen(async () => {
      await this.settle(address);
      const initiated = this.deletions.initiate(address, lengthOfGracePeriodInDays);
      if (initiated.err) return initiated;
      const recorded = await this.recordProcess(initiated.val, { tellOwner: false });
      if (recorded.err) return recorded;
      await this.reschedule();
      return succeed(toProcessDTO(initiated.val));
    });
  }

  decideIdentityDeletionProcess(
    address: string,
    decision: IdentityDeletionDecision,
  ): Promise<RuntimeResult<IdentityDeletionProcessDTO>> {
    return this.whileOpen(async () => {
      await this.settle(address);
      const decided = await this.deletions.decide(address, decision);
      if (decided.err) return decided;
      const recorded = await this.recordProcess(decided.val, { tellOwner: false });
      if (recorded.err) return recorded;
      await this.reschedule();
      return succeed(toProcessDTO(decided.val));
    });
  }

  getIdentityDeletionProcesses(address: string): Promise<RuntimeResult<IdentityDeletionProcessDTO[]>> {
    return this.whileOpen(async () => {
      await this.settle(address);
      return succeed((await this.deletions.list(address)).map(toProcessDTO));
    });
  }

  async createIdentity(): Promise<string> {
    const address = createAddress(this.host);
    await this.identities.save({ id: address, createdAt: this.clock.now().toISOString() });
    return address;
  }

  /** Connects a runtime and hands it, in order, what was pushed while it was away. */
  connect(address: string, inbox: BackboneInbox): Promise<() => void> {
    return this.exclusively(async () => {
      this.inboxes.set(address, inbox);
      for (const entry of await this.outbox.listByPeer(address)) {
        await this.hand(inbox, address, entry.push);
        await this.outbox.commit([this.outbox.delete(entry.id)]);
      }
      return () => {
        if (this.inboxes.get(address) === inbox) this.inboxes.delete(address);
      };
    });
  }

  createRelationshipTemplate(
    owner: string,
    template: NewRelationshipTemplate,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>> {
    return this.actingAs(owner, async () => {
      const record: TemplateRecord = {
        id: generateId("RLT"),
        createdBy: owner,
        createdAt: this.clock.now().toISOString(),
        ...template,
        ...(template.content === undefined ? {} : { content: cloneJson(template.content) }),
        allocations: 0,
      };
      await this.templates.save(record);
      return succeed(toTemplateDTO(record));
    });
  }

  async getRelationshipTemplate(
    _reader: string,
    templateId: string,
  ): Promise<RuntimeResult<RelationshipTemplateDTO>> {
    if (this.closed) return fail("error.runtime.runtimeClosed", "backbone");
    try {
      const template = await this.templates.get(templateId);
      if (template === undefined)
        return fail("error.runtime.recordNotFound", "RelationshipTemplate", templateId);
      return succeed(toTemplateDTO(template));
    } catch (error) {
      return unexpected(error);
    }
  }

  canCreateRelationship(requestor: string, templateId: string): Promise<RuntimeResult<void>> {
    return this.whileOpen(async () => {
      const checked = await this.checkRelationshipCreation(requestor, templateId);
      return checked.ok ? succeed(undefined) : checked;
    });
  }

  createRelationship(
    requestor: string,
    templateId: string,
    creationContent?: JsonValue,
  ): Promise<RuntimeResult<RelationshipDTO>> {
    return this.actingAs(requestor, async () => {
      const checked = await this.checkRelationshipCreation(requestor, templateId);
      if (checked.err) return checked;
      const template = checked.val;
      const now = this.clock.now().toISOString();
      let relationship: BackboneRelationship = {
        id: generateId("REL"),
        templateId,
        from: requestor,
        to: template.createdBy,
        status: "Pending",
        auditLog: [{ createdAt: now, createdBy: requestor, reason: "Creation", newStatus: "Pending" }],
        decomposedBy: [],
      };
      if (creationContent !== undefined) relationship.creationContent = cloneJson(creationContent);
      // A requestor already in deletion: the template's creator must know from the start (behaviour §5).
      const requestorStanding = await this.deletions.standing(requestor);
      if (requestorStanding.kind === "inDeletion") {
        const change = { kind: "toBeDeleted", deletionDate: requestorStanding.deletionDate } as const;
        relationship =
          applyPeerDeletion(relationship, requestor, change, this.clock.now())?.relationship ?? relationship;
      }
      try {
        await this.commitAndDeliver({
          changes: [
            this.relationships.put(relationship),
            this.templates.put({ ...template, allocations: template.allocations + 1 }),
          ],
          deliveries: this.relationshipDeliveries(relationship, requestor),
        });
      } catch (error) {
        // Another creation for the pair committed first: the storage keeps one existing relationship per pair.
        if (error instanceof SlotTakenError) {
          const winner = await this.relationships.getBySlot(pairSlot(requestor, template.createdBy));
          return fail(
            "error.transport.relationships.relationshipCurrentlyExists",
            template.createdBy,
            winner?.status ?? "Pending",
          );
        }
        throw error;
      }
      return succeed(projectRelationship(relationship, requestor));
    });
  }

  changeRelationship(
    actor: string,
    relationshipId: string,
    change: RelationshipStatusChange,
  ): Promise<RuntimeResult<RelationshipDTO>> {
    return this.actingAs(actor, async () => {
      const changed = await this.transitionRelationship(actor, relationshipId, change);
      return changed.ok ? succeed(projectRelationship(changed.val, actor)) : changed;
    });
  }

  decomposeRelationship(actor: string, relationshipId: string): Promise<RuntimeResult<void>> {
    return this.actingAs(actor, async () => {
      // Idempotent for the side that already decomposed, so a runtime whose local clean-up failed can retry.
      const relationship = await this.relationships.get(relationshipId);
      if (relationship?.decomposedBy.includes(actor) === true) return succeed(undefined);
      const changed = await this.transitionRelationship(actor, relationshipId, "decompose");
      return changed.ok ? succeed(undefined) : changed;
    });
  }

  sendMessage(
    sender: string,
    recipients: readonly string[],
    content: JsonValue,
  ): Promise<RuntimeResult<MessageDTO>> {
    return this.actingAs(sender, async () => {
      const message: MessageDTO = {
        id: generateId("MSG"),
        createdBy: sender,
        recipients: [...recipients],
        content: cloneJson(content),
        createdAt: this.clock.now().toISOString(),
      };
      const standings = await Promise.all(recipients.map((recipient) => this.deletions.standing(recipient)));
      const deleted = recipients.filter((_, index) => standings[index]?.kind === "deleted");
      if (deleted.length > 0) return fail("error.transport.messages.peerIsDeleted", deleted);
      const inDeletion = recipients.filter((_, index) => standings[index]?.kind === "inDeletion");
      const notification = isNotification(content);
      if (inDeletion.length > 0 && !notification)
        return fail("error.runtime.messages.peerIsInDeletion", inDeletion);
      // A Notification to a recipient in deletion waits on the Backbone until it cancels (or is deleted).
      const held = inDeletion.map((recipient) => ({ id: `${recipient}/${message.id}`, recipient, message }));
      await this.commitAndDeliver({
        changes: held.map((entry) => this.heldNotifications.put(entry)),
        deliveries: recipients
          .filter((recipient) => !inDeletion.includes(recipient))
          .map((address) => ({ address, push: { kind: "messageReceived", message } })),
      });
      return succeed(message);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.queue.catch(() => undefined);
    this.inboxes.clear();
    if (this.ownsStorage) await this.storage.close();
  }

  /** The template, if `requestor` may create a relationship from it now (behaviour §7 order). */
  private async checkRelationshipCreation(
    requestor: string,
    templateId: string,
  ): Promise<RuntimeResult<TemplateRecord>> {
    const template = await this.templates.get(templateId);
    if (template === undefined)
      return fail("error.runtime.recordNotFound", "RelationshipTemplate", templateId);
    const owner = await this.deletions.standing(template.createdBy);
    if (owner.kind === "deleted") {
      return fail("error.transport.relationships.deletedOwnerOfRelationshipTemplate", template.createdBy);
    }
    if (owner.kind === "inDeletion") {
      return fail(
        "error.transport.relationships.activeIdentityDeletionProcessOfOwnerOfRelationshipTemplate",
        template.createdBy,
      );
    }
    if (template.createdBy === requestor) {
      return fail("error.transport.relationships.cannotCreateRelationshipWithYourself", templateId);
    }
    const existing = await this.relationships.getBySlot(pairSlot(requestor, template.createdBy));
    if (existing !== undefined) {
      return fail(
        "error.transport.relationships.relationshipCurrentlyExists",
        template.createdBy,
        existing.status,
      );
    }
    if (template.expiresAt !== undefined && Date.parse(template.expiresAt) <= this.clock.now().getTime()) {
      return fail("error.transport.relationships.relationshipTemplateExpired", templateId);
    }
    if (
      template.maxNumberOfAllocations !== undefined &&
      template.allocations >= template.maxNumberOfAllocations
    ) {
      return fail("error.transport.relationships.relationshipTemplateAllocationsExhausted", templateId);
    }
    return succeed(template);
  }

  private async transitionRelationship(
    actor: string,
    relationshipId: string,
    action: RelationshipStatusChange | "decompose",
  ): Promise<RuntimeResult<BackboneRelationship>> {
    const relationship = await this.relationships.get(relationshipId);
    if (relationship === undefined || !isVisibleTo(relationship, actor)) {
      return fail("error.runtime.recordNotFound", "Relationship", relationshipId);
    }
    const changed = transition(relationship, actor, action, this.clock.now());
    if (changed.err) return changed;
    const next = changed.val;
    const goneForBoth = next.decomposedBy.length === 2;
    await this.commitAndDeliver({
      changes: [goneForBoth ? this.relationships.delete(next.id) : this.relationships.put(next)],
      deliveries: goneForBoth ? [] : this.relationshipDeliveries(next, actor),
    });
    return changed;
  }

  /** Tells every side but the actor (who applies the call's result itself) how the relationship looks now. */
  private relationshipDeliveries(relationship: BackboneRelationship, actor: string): Delivery[] {
    return [relationship.from, relationship.to]
      .filter((side) => side !== actor && isVisibleTo(relationship, side))
      .map((side) => ({
        address: side,
        push: { kind: "relationshipChanged", relationship: projectRelationship(relationship, side) },
      }));
  }

  /**
   * Writes a unit of work, with the pushes for runtimes that are not connected in the outbox, in one commit;
   * then hands the other pushes to their runtimes. Nothing is told that was not written, and nothing written
   * is left untold.
   */
  private async commitAndDeliver(work: UnitOfWork): Promise<void> {
    const away = work.deliveries.filter(({ address }) => !this.inboxes.has(address));
    const changes = [
      ...work.changes,
      ...away.map(({ address, push }) =>
        this.outbox.put({ id: generateId("PSH"), recipient: address, push }),
      ),
    ];
    if (changes.length > 0) await this.storage.commit(changes);
    for (const { address, push } of work.deliveries) {
      const inbox = this.inboxes.get(address);
      if (inbox !== undefined) await this.hand(inbox, address, push);
    }
  }

  private async hand(inbox: BackboneInbox, address: string, push: Push): Promise<void> {
    // Every recipient gets its own copy: runtimes on one Backbone never share objects.
    const copy = cloneJson(push);
    try {
      switch (copy.kind) {
        case "relationshipChanged":
          await inbox.relationshipChanged(copy.relationship, copy.peerDeletion);
          break;
        case "messageReceived":
          await inbox.messageReceived(copy.message);
          break;
        case "identityDeletionProcessChanged":
          await inbox.identityDeletionProcessChanged(copy.process);
          break;
      }
    } catch (error) {
      this.onDeliveryError(error, address);
    }
  }

  /** Applies what is due (for one identity, or all): each process with its consequences in one unit of work. */
  private async settle(address?: string): Promise<void> {
    for (const outcome of await this.deletions.due(address)) {
      const recorded = await this.recordProcess(outcome.process, {
        tellOwner: outcome.kind === "approvalExpired",
      });
      if (recorded.err) throw new Error(recorded.val.message);
    }
  }

  /**
   * Writes a deletion process together with what it means for others (behaviour §5), and tells the runtimes:
   * approved → peers hear ToBeDeleted; cancelled after approval → peers hear the cancellation and held
   * Notifications are released; deleted → peers hear Deleted and held Notifications are dropped. The owner is
   * told when the change is not its own doing (the Admin UI, an expiry).
   */
  private async recordProcess(
    process: StoredIdentityDeletionProcess,
    { tellOwner }: { tellOwner: boolean },
  ): Promise<RuntimeResult<void>> {
    const { address } = process;
    const parts: UnitOfWork[] = [{ changes: [this.deletions.put(process)], deliveries: [] }];
    if (tellOwner) {
      const push: Push = { kind: "identityDeletionProcessChanged", process: toProcessDTO(process) };
      parts.push({ changes: [], deliveries: [{ address, push }] });
    }
    if (process.identityDeleted === true) {
      parts.push(
        await this.peerTidings(address, {
          kind: "deleted",
          deletionDate: process.gracePeriodEndsAt as string,
        }),
      );
      parts.push({ changes: [this.heldNotifications.deleteByPeer(address)], deliveries: [] });
    } else if (process.status === "Approved") {
      parts.push(
        await this.peerTidings(address, {
          kind: "toBeDeleted",
          deletionDate: process.gracePeriodEndsAt as string,
        }),
      );
    } else if (process.status === "Cancelled" && process.approvedAt !== undefined) {
      parts.push(await this.peerTidings(address, { kind: "cancelled" }));
      parts.push(await this.releasedNotifications(address));
    }
    try {
      await this.commitAndDeliver({
        changes: parts.flatMap((part) => part.changes),
        deliveries: parts.flatMap((part) => part.deliveries),
      });
      return succeed(undefined);
    } catch (error) {
      // A second active process for the identity: its slot is taken, and nothing of this unit was written.
      if (error instanceof SlotTakenError) {
        return fail(
          "error.runtime.identityDeletionProcess.activeIdentityDeletionProcessAlreadyExists",
          address,
        );
      }
      throw error;
    }
  }

  /** The relationships of `party` that hear of its deletion, changed, and what their other sides are told. */
  private async peerTidings(party: string, change: PeerDeletionChange): Promise<UnitOfWork> {
    const now = this.clock.now();
    const changed = (await this.relationships.listByPeer(party))
      .map((relationship) => applyPeerDeletion(relationship, party, change, now))
      .filter((result) => result !== undefined);
    return {
      changes: changed.map(({ relationship }) => this.relationships.put(relationship)),
      deliveries: changed.flatMap(({ relationship, event }) => {
        const peer = otherParty(relationship, party);
        if (!isVisibleTo(relationship, peer)) return [];
        const push: Push = {
          kind: "relationshipChanged",
          relationship: projectRelationship(relationship, peer),
          peerDeletion: event,
        };
        return [{ address: peer, push }];
      }),
    };
  }

  /** The Notifications held while `recipient` was in deletion: removed from the hold, delivered oldest first. */
  private async releasedNotifications(recipient: string): Promise<UnitOfWork> {
    const held = await this.heldNotifications.listByPeer(recipient);
    return {
      changes: held.length === 0 ? [] : [this.heldNotifications.deleteByPeer(recipient)],
      deliveries: held.map(({ message }) => ({
        address: recipient,
        push: { kind: "messageReceived", message },
      })),
    };
  }

  /** Why `actor` may not act any more, if its identity has been deleted. */
  private async refuseDeleted(actor: string): Promise<Err<RuntimeError> | undefined> {
    const standing = await this.deletions.standing(actor);
    return standing.kind === "deleted" ? fail("error.runtime.identityDeleted", actor) : undefined;
  }

  /** Sets the timer for the next due expiry, when this Backbone runs its jobs itself. */
  private async reschedule(): Promise<void> {
    if (!this.runsDueJobsItself || this.closed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const due = await this.deletions.nextDueInstant();
    if (due === undefined) return;
    // Due means "passed": one millisecond after the end instant.
    const delay = Math.min(Math.max(due + 1 - this.clock.now().getTime(), 0), MAX_TIMER_DELAY_MS);
    this.timer = setTimeout(() => void this.runDueJobs(), delay);
    this.timer.unref();
  }

  /** After a failed run of the due jobs, tries again later: 1 s, doubling up to a minute. */
  private retryLater(): void {
    if (!this.runsDueJobsItself || this.closed) return;
    this.retryDelayMs = Math.min(Math.max(this.retryDelayMs * 2, 1_000), 60_000);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runDueJobs(), this.retryDelayMs);
    this.timer.unref();
  }

  /** A call an identity makes: refused with `error.runtime.identityDeleted` once that identity is deleted. */
  private actingAs<T>(actor: string, work: () => Promise<RuntimeResult<T>>): Promise<RuntimeResult<T>> {
    return this.whileOpen(async () => (await this.refuseDeleted(actor)) ?? (await work()));
  }

  /** Like `exclusively`, for calls that answer with a Result: once closed, `error.runtime.runtimeClosed`. */
  private whileOpen<T>(work: () => Promise<RuntimeResult<T>>): Promise<RuntimeResult<T>> {
    if (this.closed) return Promise.resolve(fail("error.runtime.runtimeClosed", "backbone"));
    // A failing storage answers like a facade does: error.runtime.storage, never a rejection.
    return this.exclusively(work).catch((error: unknown) => unexpected(error));
  }

  /** Runs mutations one after another, so a check and the write it guards cannot interleave with another. */
  private exclusively<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

function toTemplateDTO(record: TemplateRecord): RelationshipTemplateDTO {
  const { allocations: _allocations, ...template } = record;
  return template;
}

// The days JavaScript dates span on either side of 1970: a longer period could never end.
const MAX_PERIOD_IN_DAYS = 100_000_000;

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > MAX_PERIOD_IN_DAYS) {
    throw new RangeError(`${name} must be a number from 0 to ${MAX_PERIOD_IN_DAYS}`);
  }
  return value;
}
