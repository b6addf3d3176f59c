import type { Backbone } from "../backbone/backbone.js";
import { LocalBackbone } from "../backbone/local-backbone.js";
import type { Clock } from "../core/clock.js";
import { EventBus } from "../core/events.js";
import type { ListenerErrorHandler } from "../core/events.js";
import { RecordCollection } from "../core/record-collection.js";
import type { StorageAdapter } from "../core/storage.js";
import { UseCaseRunner } from "../core/use-case.js";
import { IdentityMetadataFacade } from "../identity-metadata/facade.js";
import {
  DEFAULT_MAX_IDENTITY_METADATA_VALUE_BYTES,
  identityMetadataCollection,
} from "../identity-metadata/model.js";
import { MessagesFacade, messageCollection, receiveMessage } from "../messages/facade.js";
import { relationshipCollection, templateCollection } from "../relationships/collections.js";
import { RelationshipBook, RelationshipsFacade } from "../relationships/facade.js";
import { lokiStorage } from "../storage/loki-storage.js";
import type { RuntimeEventPayloads, RuntimeEvents } from "./events.js";

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
}

export interface Runtime {
  /** The address of the runtime's own identity. */
  readonly address: string;
  readonly identityMetadata: IdentityMetadataFacade;
  readonly relationships: RelationshipsFacade;
  readonly messages: MessagesFacade;
  readonly events: RuntimeEvents;
  /**
   * Refuses further calls (`error.runtime.runtimeClosed`), waits for calls in flight and pending listeners,
   * disconnects from the Backbone and closes what the runtime created itself.
   */
  close(): Promise<void>;
}

interface OwnIdentityRecord {
  id: "self";
  address: string;
}

/**
 * Creates a runtime: one own identity (created on the Backbone, or the one its storage already holds) and
 * its facades.
 * @example
 * const backbone = new LocalBackbone();
 * const alice = await createRuntime({ backbone });
 * await alice.identityMetadata.upsertIdentityMetadata({ reference: alice.address, value: { note: "me" } });
 */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const ownsBackbone = options.backbone === undefined;
  const backbone =
    options.backbone ?? new LocalBackbone(options.clock === undefined ? {} : { clock: options.clock });
  const ownsStorage = options.storage === undefined;
  const storage = options.storage ?? lokiStorage();
  const maxValueBytes = options.maxIdentityMetadataValueBytes ?? DEFAULT_MAX_IDENTITY_METADATA_VALUE_BYTES;
  if (!Number.isInteger(maxValueBytes) || maxValueBytes < 0) {
    throw new RangeError("maxIdentityMetadataValueBytes must be an integer ≥ 0");
  }

  const address = await ownIdentity(storage, backbone);
  const events = new EventBus<RuntimeEventPayloads>(
    address,
    options.onListenerError ??
      ((error, name) => console.error(`identity-runtime: a listener of ${name} failed`, error)),
  );
  const runner = new UseCaseRunner();
  const metadata = identityMetadataCollection(storage, address);
  const relationships = relationshipCollection(storage, address);
  const templates = templateCollection(storage, address);
  const messages = messageCollection(storage, address, address);
  const book = new RelationshipBook(relationships, templates, events);

  const disconnect = backbone.connect(address, {
    relationshipChanged: async (relationship) => {
      await book.apply(relationship);
    },
    messageReceived: (message) => receiveMessage(messages, events, message),
  });

  return {
    address,
    identityMetadata: new IdentityMetadataFacade(runner, address, metadata, relationships, maxValueBytes),
    relationships: new RelationshipsFacade(runner, address, backbone, storage, book, events, (peer) =>
      Promise.resolve([metadata.deleteByPeer(peer), templates.deleteByPeer(peer)]),
    ),
    messages: new MessagesFacade(runner, address, backbone, messages, relationships),
    events: { on: (name, listener) => events.on(name, listener) },
    async close() {
      await runner.close();
      disconnect();
      await events.idle();
      events.clear();
      if (ownsBackbone) await backbone.close();
      if (ownsStorage) await storage.close();
    },
  };
}

/** The address kept in the storage, so reopening a store is the same identity; a new identity otherwise. */
async function ownIdentity(storage: StorageAdapter, backbone: Backbone): Promise<string> {
  const identity = new RecordCollection<OwnIdentityRecord>(storage, "runtime/identity");
  const known = await identity.get("self");
  if (known !== undefined) return known.address;
  const address = await backbone.createIdentity();
  await identity.save({ id: "self", address });
  return address;
}
