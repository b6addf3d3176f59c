// What the benchmark measures: the facades, and the baselines they are compared with, behind one interface.
import Loki from "lokijs";
import { createRuntime, LocalBackbone, ManualClock } from "identity-runtime";
import type { JsonValue, Runtime } from "identity-runtime";

export type Operation = "insert" | "update" | "get" | "delete";
export type SubjectName = "facade" | "loki-unique-clone" | "loki-unique" | "map";

/** One slot of IdentityMetadata: a realistic address, key and ~150-byte value. */
export interface Slot {
  reference: string;
  key: string;
}

/** A store of IdentityMetadata records that the four operations run against. */
export interface Subject {
  readonly name: SubjectName;
  insert(slot: Slot, value: JsonValue): Promise<void> | void;
  update(slot: Slot, value: JsonValue): Promise<void> | void;
  get(slot: Slot): Promise<void> | void;
  delete(slot: Slot): Promise<void> | void;
  close(): Promise<void>;
}

export function valueFor(i: number): JsonValue {
  // 150 bytes or so once serialized, like a CRM reference kept about a peer.
  return {
    customerId: 100000 + i,
    segment: i % 3 === 0 ? "enterprise" : "consumer",
    tags: ["newsletter", "beta"],
    note: "met at the trade fair, follow up in Q3",
    score: (i % 100) / 100,
    active: i % 2 === 0,
  };
}

export function keyFor(i: number): string {
  return `crm:contact:${i}`;
}

const slotKey = (slot: Slot) => `${slot.reference}\u0000${slot.key}`;

/** The facades: one runtime whose peers are the references, so every upsert passes the familiarity check. */
export async function facadeSubject(peerCount: number): Promise<Subject & { peers: string[] }> {
  const backbone = new LocalBackbone({ clock: new ManualClock() });
  const runtime: Runtime = await createRuntime({ backbone });
  const template = (await runtime.relationships.createOwnRelationshipTemplate()).unwrap();
  const peers: Runtime[] = [];
  for (let i = 0; i < peerCount; i++) {
    const peer = await createRuntime({ backbone });
    const relationship = (await peer.relationships.createRelationship({ templateId: template.id })).unwrap();
    (await runtime.relationships.acceptRelationship({ relationshipId: relationship.id })).unwrap();
    peers.push(peer);
  }
  const metadata = runtime.identityMetadata;
  const expectOk = (result: { ok: boolean; val: unknown }) => {
    if (!result.ok) throw new Error(`benchmark call failed: ${JSON.stringify(result.val)}`);
  };
  return {
    name: "facade",
    peers: peers.map((peer) => peer.address),
    insert: async (slot, value) => expectOk(await metadata.upsertIdentityMetadata({ ...slot, value })),
    update: async (slot, value) => expectOk(await metadata.upsertIdentityMetadata({ ...slot, value })),
    get: async (slot) => expectOk(await metadata.getIdentityMetadata(slot)),
    delete: async (slot) => expectOk(await metadata.deleteIdentityMetadata(slot)),
    close: async () => {
      await Promise.all([runtime, ...peers].map((r) => r.close()));
      await backbone.close();
    },
  };
}

interface LokiDoc {
  slot: string;
  reference: string;
  key: string;
  value: JsonValue;
}

/** Raw LokiJS: one collection with a unique index on a synthetic slot field, as a careful user would write it. */
export function lokiSubject(clone: boolean): Subject {
  const collection = new Loki("bench").addCollection<LokiDoc>("identityMetadata", {
    unique: ["slot"],
    clone,
  });
  const find = (slot: Slot) => {
    const doc = collection.by("slot", slotKey(slot));
    if (doc === undefined) throw new Error("missing record");
    return doc;
  };
  return {
    name: clone ? "loki-unique-clone" : "loki-unique",
    insert: (slot, value) => void collection.insert({ slot: slotKey(slot), ...slot, value }),
    update: (slot, value) => {
      const doc = find(slot);
      doc.value = value;
      collection.update(doc);
    },
    get: (slot) => void find(slot),
    delete: (slot) => void collection.remove(find(slot)),
    close: () => Promise.resolve(),
  };
}

/** A plain Map: the floor of what any store costs. */
export function mapSubject(): Subject {
  const records = new Map<string, Slot & { value: JsonValue }>();
  return {
    name: "map",
    insert: (slot, value) => void records.set(slotKey(slot), { ...slot, value }),
    update: (slot, value) => {
      const record = records.get(slotKey(slot));
      if (record === undefined) throw new Error("missing record");
      record.value = value;
    },
    get: (slot) => {
      if (!records.has(slotKey(slot))) throw new Error("missing record");
    },
    delete: (slot) => void records.delete(slotKey(slot)),
    close: () => Promise.resolve(),
  };
}
