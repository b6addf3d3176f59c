import { LocalBackbone } from "../backbone/local-backbone.js";
import { ManualClock } from "../core/clock.js";
import type { Duration } from "../core/clock.js";
import type { StorageAdapter } from "../core/storage.js";
import type { RelationshipDTO } from "../relationships/model.js";
import { EVENT_NAMES } from "../runtime/events.js";
import type { EventName, RuntimeEvent } from "../runtime/events.js";
import { createRuntime } from "../runtime/runtime.js";
import type { Runtime } from "../runtime/runtime.js";

/**
 * What `createTestWorld` sets up: the identities by name, which of them start related, and the Backbone's
 * storage, start time and periods.
 * @example
 * const world = await createTestWorld({
 *   identities: ["shop", "customer", "courier"],
 *   connected: [["customer", "shop"]],
 *   gracePeriodInDays: 30,
 * });
 */
export interface TestWorldOptions<Name extends string> {
  /** The identities of the world, by the names the test calls them. */
  identities: readonly Name[];
  /**
   * Which identities start with an Active relationship: `true` for every two of them, or the pairs (the first
   * of a pair creates the relationship from the second's template). Default: none.
   */
  connected?: boolean | readonly (readonly [Name, Name])[];
  /**
   * Makes the storage of the Backbone and of each runtime (each gets its own); default: in memory. The world
   * closes what it made.
   */
  storage?: () => StorageAdapter;
  /** Where the world's ManualClock starts; default 2030-01-01T00:00:00.000Z. */
  start?: Date;
  /** The Backbone's grace period of an approved deletion; default 14 days. */
  gracePeriodInDays?: number;
  /** The Backbone's approval period of a deletion started by the Admin UI; default 7 days. */
  approvalPeriodInDays?: number;
}

/**
 * An event a runtime published, as its listeners got it.
 * @example
 * for (const event of world.events("shop").all) console.log(event.name, event.data);
 */
export type RecordedEvent = { [N in EventName]: RuntimeEvent<N> }[EventName];

/**
 * Every event one runtime published since the world began (or since `clear()`), in order.
 * @example
 * const shopEvents = world.events("shop");
 * assertOk(await world.runtime("customer").identityDeletion.initiateIdentityDeletionProcess());
 * await world.advance({ days: 15 });
 * expect(shopEvents.of("transport.peerDeleted")).toHaveLength(1);
 * shopEvents.clear();
 */
export interface EventLog {
  /** Every recorded event, of any name, in order. */
  readonly all: readonly RecordedEvent[];
  /** The events of one name, in order. */
  of<N extends EventName>(name: N): RuntimeEvent<N>[];
  /**
   * Resolves with the `count`-th event of this name (default: the first), at once if it was published already;
   * rejects after `timeoutMs` (default 1,000) of real time. Pushes to a runtime arrive before the causing call
   * resolves, so this is needed only for what a listener of yours does later.
   */
  next<N extends EventName>(
    name: N,
    options?: { count?: number; timeoutMs?: number },
  ): Promise<RuntimeEvent<N>>;
  /** Forgets what was recorded so far. */
  clear(): void;
}

/**
 * The world `createTestWorld` made: its identities' runtimes by name, their recorded events, the shared
 * Backbone and its clock.
 * @example
 * const world = await createTestWorld({ identities: ["shop", "customer"] });
 * const relationship = await world.relate("customer", "shop");
 * expect(relationship.peer).toBe(world.address("shop"));
 * await world.close();
 */
export interface TestWorld<Name extends string> {
  /** The Backbone all runtimes of the world share, on the world's clock (it runs due jobs on `advance`). */
  readonly backbone: LocalBackbone;
  /** The world's clock; `advance` moves it and applies what became due. */
  readonly clock: ManualClock;
  /** The runtime of the identity called `name`. */
  runtime(name: Name): Runtime;
  /** The address of the identity called `name`. */
  address(name: Name): string;
  /** Every event the runtime of the identity called `name` published. */
  events(name: Name): EventLog;
  /**
   * A relationship that `requestor` creates from a new template of `owner`, accepted by `owner` unless
   * `accept` is false; as `requestor` sees it.
   */
  relate(requestor: Name, owner: Name, options?: { accept?: boolean }): Promise<RelationshipDTO>;
  /**
   * Moves the clock forward and applies what became due (approval periods, grace periods); runtimes have
   * heard of it when this resolves.
   */
  advance(duration: Duration): Promise<void>;
  /** Closes every runtime, the Backbone and the storage the world made. */
  close(): Promise<void>;
}

const DEFAULT_START = new Date("2030-01-01T00:00:00.000Z");

/**
 * A LocalBackbone on a ManualClock with named identities, each with a runtime whose events are recorded: the
 * set-up of an integrator's test of its own code against this library.
 * @example
 * const world = await createTestWorld({ identities: ["shop", "customer"], connected: true });
 * ok(await world.runtime("customer").identityDeletion.initiateIdentityDeletionProcess());
 * await world.advance({ days: 15 }); // past the grace period of 14 days
 * expect(world.events("shop").of("transport.peerDeleted")).toHaveLength(1);
 * await world.close();
 */
export async function createTestWorld<Name extends string>(
  options: TestWorldOptions<Name>,
): Promise<TestWorld<Name>> {
  const names = [...options.identities];
  if (new Set(names).size !== names.length) throw new RangeError("identities must have different names");
  const clock = new ManualClock(options.start ?? DEFAULT_START);
  const made: StorageAdapter[] = [];
  const storage = (): StorageAdapter | undefined => {
    const adapter = options.storage?.();
    if (adapter !== undefined) made.push(adapter);
    return adapter;
  };
  const backbone = new LocalBackbone({
    clock,
    storage: storage(),
    gracePeriodInDays: options.gracePeriodInDays,
    approvalPeriodInDays: options.approvalPeriodInDays,
  });
  const runtimes = new Map<Name, Runtime>();
  const logs = new Map<Name, RecordingLog>();
  const close = async (): Promise<void> => {
    for (const runtime of runtimes.values()) await runtime.close();
    await backbone.close();
    for (const adapter of made) await adapter.close();
  };
  try {
    for (const name of names) {
      const runtime = await createRuntime({ backbone, storage: storage() });
      runtimes.set(name, runtime);
      logs.set(name, new RecordingLog(runtime));
    }
    const world: TestWorld<Name> = {
      backbone,
      clock,
      runtime: (name) => known(runtimes, name),
      address: (name) => known(runtimes, name).address,
      events: (name) => known(logs, name),
      async relate(requestor, owner, { accept = true } = {}) {
        const template = unwrap(
          await known(runtimes, owner).relationships.createOwnRelationshipTemplate(),
          `${owner} creates a template`,
        );
        const created = unwrap(
          await known(runtimes, requestor).relationships.createRelationship({ templateId: template.id }),
          `${requestor} creates a relationship from ${owner}'s template`,
        );
        if (!accept) return created;
        unwrap(
          await known(runtimes, owner).relationships.acceptRelationship({ relationshipId: created.id }),
          `${owner} accepts ${requestor}'s relationship`,
        );
        return unwrap(
          await known(runtimes, requestor).relationships.getRelationship({ id: created.id }),
          `${requestor} reads the relationship`,
        );
      },
      async advance(duration) {
        clock.advance(duration);
        await backbone.runDueJobs();
      },
      close,
    };
    for (const [requestor, owner] of pairs(names, options.connected ?? false)) {
      await world.relate(requestor, owner);
    }
    return world;
  } catch (error) {
    await close();
    throw error;
  }
}

class RecordingLog implements EventLog {
  readonly all: RecordedEvent[] = [];
  readonly #waiting = new Set<() => void>();

  constructor(runtime: Runtime) {
    for (const name of EVENT_NAMES) {
      runtime.events.on(name, (event) => {
        this.all.push(event as RecordedEvent);
        for (const wake of this.#waiting) wake();
      });
    }
  }

  of<N extends EventName>(name: N): RuntimeEvent<N>[] {
    return this.all.filter((event): event is RuntimeEvent<N> & RecordedEvent => event.name === name);
  }

  next<N extends EventName>(
    name: N,
    { count = 1, timeoutMs = 1_000 }: { count?: number; timeoutMs?: number } = {},
  ): Promise<RuntimeEvent<N>> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.of(name)[count - 1];
        if (found === undefined) return false;
        done();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`no ${ordinal(count)} ${name} within ${timeoutMs} ms (seen: ${this.of(name).length})`),
        );
      }, timeoutMs);
      const wake = (): void => void check();
      const done = (): void => {
        clearTimeout(timer);
        this.#waiting.delete(wake);
      };
      if (!check()) this.#waiting.add(wake);
    });
  }

  clear(): void {
    this.all.length = 0;
  }
}

function known<Name extends string, T>(map: Map<Name, T>, name: Name): T {
  const value = map.get(name);
  if (value === undefined) throw new RangeError(`no identity called ${JSON.stringify(name)} in this world`);
  return value;
}

/** The pairs to connect: every two identities, or those given. */
function pairs<Name extends string>(
  names: readonly Name[],
  connected: boolean | readonly (readonly [Name, Name])[],
): (readonly [Name, Name])[] {
  if (connected === false) return [];
  if (connected === true)
    return names.flatMap((owner, i) => names.slice(i + 1).map((r) => [r, owner] as const));
  return [...connected];
}

/** The value of a set-up step, or an error saying which step failed and how. */
function unwrap<T>(
  result: { ok: true; val: T } | { ok: false; val: { toString(): string } },
  step: string,
): T {
  if (!result.ok) throw new Error(`createTestWorld: ${step}: ${result.val.toString()}`);
  return result.val;
}

function ordinal(n: number): string {
  return n === 1 ? "first" : `#${n}`;
}
