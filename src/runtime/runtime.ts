import type { Backbone } from "../backbone/backbone.js";
import { LocalBackbone } from "../backbone/local-backbone.js";
import type { Clock } from "../core/clock.js";
import type { RuntimeContext, Store } from "../core/context.js";
import { fail, runtimeError, succeed } from "../core/errors.js";
import type { RuntimeResult } from "../core/errors.js";
import { EventJournal, journalingPublisher } from "../core/event-journal.js";
import { EventBus } from "../core/events.js";
import type { ListenerErrorHandler } from "../core/events.js";
import { RecordCollection } from "../core/record-collection.js";
import { SlotTakenError } from "../core/storage.js";
import type { StorageAdapter, StorageChange } from "../core/storage.js";
import { UseCaseRunner } from "../core/use-case.js";
import { NO_REQUEST, requestSchema, rules } from "../core/validation.js";
import { identityDeletionFacade } from "../identity-deletion/facade.js";
import type { IdentityDeletionFacade } from "../identity-deletion/facade.js";
import { OwnDeletionStore } from "../identity-deletion/store.js";
import { identityMetadataFacade } from "../identity-metadata/facade.js";
import type { IdentityMetadataFacade } from "../identity-metadata/facade.js";
import { DEFAULT_MAX_IDENTITY_METADATA_VALUE_BYTES } from "../identity-metadata/model.js";
import { IdentityMetadataStore } from "../identity-metadata/store.js";
import { messageSender, messagesFacade } from "../messages/facade.js";
import type { MessagesFacade } from "../messages/facade.js";
import { MessageStore } from "../messages/store.js";
import { forgetDecomposed, relationshipsFacade } from "../relationships/facade.js";
import type { RelationshipsFacade } from "../relationships/facade.js";
import { RelationshipStore } from "../relationships/store.js";
import { requestsFacade } from "../requests/facade.js";
import type { RequestsFacade } from "../requests/facade.js";
import { RequestStore } from "../requests/store.js";
import { lokiStorage } from "../storage/loki-storage.js";
import { peersOfEvent } from "./events.js";
import type { JournaledEvent, RuntimeEventJournal, RuntimeEventPayloads, RuntimeEvents } from "./events.js";

/**
 * How `createRuntime` builds a runtime; every option has a default.
 * @example
 * const options: RuntimeOptions = {
 *   backbone: new LocalBackbone(),
 *   storage: sqliteStorage({ filename: "identity.db" }),
 *   onListenerError: (error, name) => logger.error({ error, name }, "event listener failed"),
 * };
 * const runtime = await createRuntime(options);
 */
export interface RuntimeOptions {
  /** The port to the Backbone; default: a fresh LocalBackbone of the runtime's own (closed with it). */
  backbone?: Backbone;
  /** Default: in-memory LokiJS (closed with the runtime). A given adapter stays open: its owner closes it. */
  storage?: StorageAdapter;
  /** Default: the Backbone's clock, else the system clock. */
  clock?: Clock;
  /** Largest IdentityMetadata `value`, in bytes of its JSON serialization; default 1 MiB. */
  maxIdentityMetadataValueBytes?: number;
  /** Told what an event listener threw or rejected with; default: `console.error`. */
  onListenerError?: ListenerErrorHandler;
  /**
   * The identity to reopen from `storage`. Without it, the runtime reopens the first identity in the storage
   * that no runtime of this process has open, or creates a new identity when there is none.
   */
  address?: string;
  /**
   * The identity of this name in `storage`: reopened when the storage keeps it, else created and kept under
   * the name. Several processes (or servers) on one database become different identities by their names;
   * given at once, `address` and `name` must name the same identity.
   */
  name?: string;
  /**
   * Keep a durable journal of this runtime's events (`runtime.journal`), for webhooks and event streams:
   * every event is written in the same transaction as the change that raised it. `retain` is how many of
   * the newest events are kept for readers without a cursor (default 10,000); older ones are kept until
   * every cursor has passed them. Default: no journal.
   */
  eventJournal?: boolean | EventJournalOptions;
}

/**
 * How the event journal is kept (`createRuntime({ eventJournal: { retain } })`).
 * @example
 * const runtime = await createRuntime({ backbone, storage, eventJournal: { retain: 50_000 } });
 */
export interface EventJournalOptions {
  /** How many of the newest events are kept for readers without a cursor; default 10,000. */
  retain?: number;
}

/**
 * One own identity and its use cases, grouped in facades; made by `createRuntime`.
 * @example
 * const runtime: Runtime = await createRuntime({ backbone });
 * const off = runtime.events.on("transport.messageReceived", (event) => console.log(event.data.content));
 * await runtime.identityMetadata.upsertIdentityMetadata({ reference: runtime.address, value: { name: "Org" } });
 * off();
 * await runtime.close();
 */
export interface Runtime {
  /** The address of the runtime's own identity. */
  readonly address: string;
  /** IdentityMetadata: JSON kept about the own identity and its peers, never shared. */
  readonly identityMetadata: IdentityMetadataFacade;
  /** The deletion of the own identity. */
  readonly identityDeletion: IdentityDeletionFacade;
  /** Relationship templates and relationships to peers. */
  readonly relationships: RelationshipsFacade;
  /** Messages to and from peers. */
  readonly messages: MessagesFacade;
  /** Requests to and from peers, riding on messages. */
  readonly requests: RequestsFacade;
  /** Subscriptions to the events of this runtime. */
  readonly events: RuntimeEvents;
  /** The durable journal of this runtime's events, when `createRuntime` was asked to keep one. */
  readonly journal?: RuntimeEventJournal;
  /**
   * Takes what the Backbone holds for this identity and has not handed over yet (changes made by runtimes
   * in other processes, which reach this one moments later by themselves), before it resolves.
   * @example
   * await runtime.sync();
   * const relationships = (await runtime.relationships.getRelationships()).unwrap();
   */
  sync(): Promise<RuntimeResult<void>>;
  /**
   * Once the own identity has been deleted: erases everything this runtime stored (its identity, metadata,
   * relationships, templates, messages, requests, deletion processes) in one unit of work, then closes it.
   * Before that: `error.runtime.identityNotDeleted`, and nothing is erased.
   */
  eraseLocalData(): Promise<RuntimeResult<void>>;
  /**
   * Whether the runtime's storage answers: one cheap read of its own identity record. Ok, or
   * `error.runtime.storage` (or `error.runtime.runtimeClosed`). What `/health` of the HTTP API asks.
   * @example
   * const health = await runtime.checkHealth();
   * if (health.err) console.error(health.val.code);
   */
  checkHealth(): Promise<RuntimeResult<void>>;
  /**
   * Refuses further calls (`error.runtime.runtimeClosed`), waits for calls in flight and pending listeners,
   * disconnects from the Backbone and closes what the runtime created itself.
   */
  close(): Promise<void>;
}

/** An identity kept in a storage; a storage can hold many, each with its own records. */
interface IdentityRecord {
  /** The identity's address. */
  id: string;
  /** Set on the identity created in an empty storage: it holds the storage's one "first identity" slot. */
  first?: true;
  /** The name the identity was created under (`RuntimeOptions.name`), unique in the storage. */
  name?: string;
}

/** The slot of the first identity of a storage: processes that start at once on an empty storage share it. */
const FIRST_IDENTITY_SLOT = "first";

/** The last choice of an identity per storage in this process: the next one waits for it. */
const choosing = new WeakMap<StorageAdapter, Promise<unknown>>();

/** Runs `work` after every earlier choice of an identity on `storage` in this process has settled. */
function oneChoiceAtATime<T>(storage: StorageAdapter, work: () => Promise<T>): Promise<T> {
  const result = (choosing.get(storage) ?? Promise.resolve()).then(work, work);
  choosing.set(
    storage,
    result.catch(() => undefined),
  );
  return result;
}

/** The identities each storage adapter has open in this process, so two runtimes never share one. */
const openIdentities = new WeakMap<StorageAdapter, Set<string>>();

/**
 * Creates a runtime: one own identity (created on the Backbone, or the one its storage already holds) and
 * its facades, wired by hand.
 * @example
 * const backbone = new LocalBackbone();
 * const alice = await createRuntime({ backbone });
 * await alice.identityMetadata.upsertIdentityMetadata({ reference: alice.address, value: { note: "me" } });
 */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const maxValueBytes = options.maxIdentityMetadataValueBytes ?? DEFAULT_MAX_IDENTITY_METADATA_VALUE_BYTES;
  if (!Number.isInteger(maxValueBytes) || maxValueBytes < 0) {
    throw new RangeError("maxIdentityMetadataValueBytes must be an integer ≥ 0");
  }
  const journalRetention = journalRetentionOf(options.eventJournal);
  if (options.name !== undefined && !isIdentityName(options.name)) {
    throw new RangeError(
      'name must be 1 to 100 printable ASCII characters without spaces at either end, such as "org"',
    );
  }
  const ownsBackbone = options.backbone === undefined;
  const backbone =
    options.backbone ?? new LocalBackbone(options.clock === undefined ? {} : { clock: options.clock });
  const clock = options.clock ?? backbone.clock;
  const ownsStorage = options.storage === undefined;
  const storage = options.storage ?? lokiStorage();
  const releaseOwned = async (): Promise<void> => {
    if (ownsBackbone) await backbone.close();
    if (ownsStorage) await storage.close();
  };
  try {
    return await assembleRuntime(options, backbone, storage, clock, {
      maxValueBytes,
      journalRetention,
      releaseOwned,
    });
  } catch (error) {
    // Nothing the failed call created may outlive it.
    await releaseOwned();
    throw error;
  }
}

/** Wires one runtime by hand: its identity, its facades, its inbox on the Backbone. */
async function assembleRuntime(
  options: RuntimeOptions,
  backbone: Backbone,
  storage: StorageAdapter,
  clock: Clock,
  settings: {
    maxValueBytes: number;
    /** How many events the journal retains; undefined: no journal. */
    journalRetention: number | undefined;
    releaseOwned: () => Promise<void>;
  },
): Promise<Runtime> {
  const { maxValueBytes, journalRetention, releaseOwned } = settings;
  const identities = new RecordCollection<IdentityRecord>(storage, "runtime/identities", (identity) => {
    if (identity.name !== undefined) return { slot: nameSlot(identity.name) };
    return identity.first === true ? { slot: FIRST_IDENTITY_SLOT } : {};
  });
  const open = openIdentities.get(storage) ?? new Set<string>();
  openIdentities.set(storage, open);
  // One choice at a time per storage in this process, so two runtimes of it never pick the same identity;
  // across processes, the storage's first-identity slot decides.
  const address = await oneChoiceAtATime(storage, async () => {
    const chosen =
      options.name === undefined
        ? await ownIdentity(identities, open, backbone, options.address)
        : await namedIdentity(identities, open, backbone, options.name, options.address);
    open.add(chosen);
    return chosen;
  });
  try {
    return await wire(address);
  } catch (error) {
    open.delete(address);
    throw error;
  }

  async function wire(address: string): Promise<Runtime> {
    const events = new EventBus<RuntimeEventPayloads>(
      address,
      options.onListenerError ??
        ((error, name) => console.error(`identity-runtime: a listener of ${name} failed`, error)),
    );
    const journal =
      journalRetention === undefined
        ? undefined
        : new EventJournal({ storage, address, clock, retain: journalRetention, peersOf: peersOfEvent });
    const context: RuntimeContext<Backbone, RuntimeEventPayloads> = {
      address,
      clock,
      storage,
      backbone,
      events: journalingPublisher(events, journal),
      // Asked on every mutating call, by then the own deletion store below exists.
      useCases: new UseCaseRunner(async () =>
        (await ownDeletion.standing()).kind === "deleted"
          ? runtimeError("error.runtime.identityDeleted", address)
          : undefined,
      ),
    };
    const ownDeletion = new OwnDeletionStore(context, () => performance.now());
    const metadata = new IdentityMetadataStore(context);
    const relationships = new RelationshipStore(context);
    const requests = new RequestStore(context);
    const messages = new MessageStore(context, { hooks: requests });
    // Erasing the identity's data and forgetting a decomposed peer are derived from this list.
    const stores: readonly Store[] = [
      metadata,
      relationships,
      messages,
      requests,
      ownDeletion,
      ...(journal === undefined ? [] : [journal]),
    ];
    const forgetPeer = async (peer: string): Promise<StorageChange[]> =>
      (await Promise.all(stores.map((store) => store.forgetPeer(peer)))).flat();
    const send = messageSender(context, { store: messages, relationships });

    // Catch up with what the Backbone decided while this runtime was not connected.
    // Where the journal stood before this runtime catches up: what comes after happened while it runs.
    const journalOpenedAt = journal === undefined ? 0 : (await journal.head()).seq;
    const processes = await backbone.getIdentityDeletionProcesses(address);
    if (processes.err) throw new Error(`identity-runtime: ${processes.val.toString()}`);
    await ownDeletion.replaceAll(processes.val);

    const disconnect = await backbone.connect(address, {
      relationshipChanged: async (relationship, peerDeletion) => {
        await relationships.apply(relationship, peerDeletion);
      },
      relationshipDecomposed: (relationshipId) =>
        forgetDecomposed(context, { store: relationships, forgetPeer }, relationshipId),
      messageReceived: (message) => messages.receive(message),
      identityDeletionProcessChanged: async (process) => {
        await ownDeletion.record(process);
      },
    });

    async function close(): Promise<void> {
      open.delete(address);
      await context.useCases.close();
      disconnect();
      await events.idle();
      events.clear();
      await releaseOwned();
    }

    return {
      address,
      identityMetadata: identityMetadataFacade(context, {
        store: metadata,
        relationships,
        maxValueBytes,
      }),
      identityDeletion: identityDeletionFacade(context, { store: ownDeletion }),
      relationships: relationshipsFacade(context, { store: relationships, forgetPeer }),
      messages: messagesFacade(context, { store: messages, send }),
      requests: requestsFacade(context, { store: requests, send, relationships }),
      events: { on: (name, listener) => events.on(name, listener) },
      ...(journal === undefined ? {} : { journal: journalFacade(context, journal, journalOpenedAt) }),
      sync: () =>
        context.useCases.run(NO_REQUEST, undefined, async () => {
          await backbone.handOverWaiting(address);
          return succeed(undefined);
        }),
      async eraseLocalData() {
        const erased = await context.useCases.run(NO_REQUEST, undefined, async () => {
          if ((await ownDeletion.standing()).kind !== "deleted")
            return fail("error.runtime.identityNotDeleted", address);
          const changes: StorageChange[] = [];
          for (const collection of stores.flatMap((store) => store.collections)) {
            for (const { id } of await storage.list(collection))
              changes.push({ kind: "delete", collection, id });
          }
          await storage.commit([...changes, identities.delete(address)]);
          return succeed(undefined);
        });
        if (erased.ok) await close();
        return erased;
      },
      checkHealth: () =>
        context.useCases.run(NO_REQUEST, undefined, async () => {
          await identities.get(address);
          return succeed(undefined);
        }),
      close,
    };
  }
}

/** The identity this runtime is: the one asked for, else one the storage holds and nobody has open, else a new one. */
async function ownIdentity(
  identities: RecordCollection<IdentityRecord>,
  open: ReadonlySet<string>,
  backbone: Backbone,
  requested: string | undefined,
): Promise<string> {
  const known = await identities.list();
  if (requested !== undefined) {
    if (!known.some((identity) => identity.id === requested)) {
      throw new RangeError(`identity-runtime: the storage holds no identity ${JSON.stringify(requested)}`);
    }
    if (open.has(requested)) {
      throw new RangeError(
        `identity-runtime: a runtime of this process has ${JSON.stringify(requested)} open already`,
      );
    }
    return requested;
  }
  // A named identity is reopened by its name only, so an unnamed server never takes over a named one.
  const unnamed = known.filter((identity) => identity.name === undefined);
  const reopened = unnamed.find((identity) => !open.has(identity.id));
  if (reopened !== undefined) return reopened.id;
  const address = await backbone.createIdentity();
  if (unnamed.length > 0) {
    await identities.save({ id: address });
    return address;
  }
  // The storage was empty: several processes may be creating its first identity at once. The storage keeps
  // one (the slot), and whoever lost takes the winner's, so that they all become one identity.
  try {
    await identities.save({ id: address, first: true });
    return address;
  } catch (error) {
    if (!(error instanceof SlotTakenError)) throw error;
    const winner = await identities.getBySlot(FIRST_IDENTITY_SLOT);
    if (winner === undefined) throw error;
    return winner.id;
  }
}

/** The journal's retention asked for: undefined for none, else a whole number of events ≥ 1. */
function journalRetentionOf(option: RuntimeOptions["eventJournal"]): number | undefined {
  if (option === undefined || option === false) return undefined;
  const retain = option === true ? DEFAULT_JOURNAL_RETENTION : (option.retain ?? DEFAULT_JOURNAL_RETENTION);
  if (!Number.isSafeInteger(retain) || retain < 1) {
    throw new RangeError("eventJournal.retain must be a whole number of events ≥ 1");
  }
  return retain;
}

const DEFAULT_JOURNAL_RETENTION = 10_000;

/** What a storage may call an identity: short, printable, and sendable on a command line as it is. */
function isIdentityName(name: string): boolean {
  return name.length <= 100 && /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(name);
}

function nameSlot(name: string): string {
  return `name:${name}`;
}

/**
 * The identity of this name: the one the storage keeps under it, else a new one. Processes that start at
 * once with the same name on an empty storage become one identity: the name's slot keeps one of them.
 */
async function namedIdentity(
  identities: RecordCollection<IdentityRecord>,
  open: ReadonlySet<string>,
  backbone: Backbone,
  name: string,
  requested: string | undefined,
): Promise<string> {
  const kept = await identities.getBySlot(nameSlot(name));
  const address = kept?.id ?? (await createNamed(identities, backbone, name));
  if (requested !== undefined && requested !== address) {
    throw new RangeError(
      `identity-runtime: the identity named ${JSON.stringify(name)} is ${address}, not ${JSON.stringify(requested)}`,
    );
  }
  if (open.has(address)) {
    throw new RangeError(
      `identity-runtime: a runtime of this process has the identity named ${JSON.stringify(name)} open already`,
    );
  }
  return address;
}

async function createNamed(
  identities: RecordCollection<IdentityRecord>,
  backbone: Backbone,
  name: string,
): Promise<string> {
  const address = await backbone.createIdentity();
  try {
    await identities.save({ id: address, name });
    return address;
  } catch (error) {
    if (!(error instanceof SlotTakenError)) throw error;
    const winner = await identities.getBySlot(nameSlot(name));
    if (winner === undefined) throw error;
    return winner.id;
  }
}

const cursorRequest = requestSchema({ consumer: rules.string({ maxLength: 200 }) });
const advanceRequest = requestSchema({
  consumer: rules.string({ maxLength: 200 }),
  seq: rules.number({ min: 0, integer: true }),
});
const readRequest = requestSchema({
  after: rules.number({ min: 0, integer: true }),
  limit: rules.optional(rules.number({ min: 1, integer: true })),
});

/** The largest page `journal.read` returns. */
const MAX_JOURNAL_PAGE = 1_000;

/** `runtime.journal`: the journal's reads and cursors as Results, like every other call of the runtime. */
function journalFacade(
  context: RuntimeContext,
  journal: EventJournal,
  openedAt: number,
): RuntimeEventJournal {
  const { useCases } = context;
  return {
    openedAt,
    read: (request) =>
      useCases.run(readRequest, request, async ({ after, limit }) => {
        const page = await journal.read(after, Math.min(limit ?? 100, MAX_JOURNAL_PAGE));
        // The journal keeps what the runtime's stores raised: events of these names with their data.
        return succeed({ events: page.entries as JournaledEvent[], through: page.through });
      }),
    head: () => useCases.run(NO_REQUEST, undefined, async () => succeed(await journal.head())),
    watch: (listener) => journal.watch(listener),
    cursor: (request) =>
      useCases.run(cursorRequest, request, async ({ consumer }) => succeed(await journal.cursor(consumer))),
    advance: (request) =>
      useCases.run(advanceRequest, request, async ({ consumer, seq }) => {
        await journal.advance(consumer, seq);
        return succeed(undefined);
      }),
    cursors: () => useCases.run(NO_REQUEST, undefined, async () => succeed(await journal.cursors())),
    dropCursor: (request) =>
      useCases.run(cursorRequest, request, async ({ consumer }) => {
        await journal.dropCursor(consumer);
        return succeed(undefined);
      }),
  };
}
