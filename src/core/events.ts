/**
 * What a runtime event looks like to a listener.
 * @example
 * runtime.events.on("transport.peerDeleted", (event) => {
 *   console.log(`${event.eventTargetAddress} heard ${event.name}`, event.data);
 * });
 */
export interface EventEnvelope<Name extends string, Data> {
  /** The event's name, as subscribed to. */
  name: Name;
  /** The address of the runtime's own identity, which the event happened to. */
  eventTargetAddress: string;
  /** What happened: the payload of this event's name. */
  data: Data;
}

export type Listener<Event> = (event: Event) => void | Promise<void>;

/**
 * Called with whatever a listener threw or rejected with; listeners' failures never reach the publisher.
 * @inline
 * @example
 * const onListenerError: ListenerErrorHandler = (error, eventName) => console.error(`listener of ${eventName} failed`, error);
 * const runtime = await createRuntime({ backbone, onListenerError });
 */
export type ListenerErrorHandler = (error: unknown, eventName: string) => void;

/**
 * A typed publish/subscribe bus. Listeners run synchronously, in subscription order, inside `publish`; a
 * listener's promise is not awaited by the publisher but tracked, so `idle()` can wait for it.
 */
export class EventBus<Payloads extends object> {
  private readonly listeners = new Map<keyof Payloads, Set<Listener<never>>>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly eventTargetAddress: string,
    private readonly onListenerError: ListenerErrorHandler,
  ) {}

  on<N extends keyof Payloads & string>(
    name: N,
    listener: Listener<EventEnvelope<N, Payloads[N]>>,
  ): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    // Wrapped so the same function subscribed twice is two subscriptions, each removable on its own.
    const subscription: Listener<never> = (event) => listener(event);
    set.add(subscription);
    return () => {
      set.delete(subscription);
    };
  }

  publish<N extends keyof Payloads & string>(name: N, data: Payloads[N]): void {
    const set = this.listeners.get(name);
    if (set === undefined || set.size === 0) return;
    const event: EventEnvelope<N, Payloads[N]> = { name, eventTargetAddress: this.eventTargetAddress, data };
    for (const listener of [...set] as Listener<EventEnvelope<N, Payloads[N]>>[]) {
      try {
        const outcome = listener(event);
        if (outcome instanceof Promise) this.track(outcome, name);
      } catch (error) {
        this.report(error, name);
      }
    }
  }

  /** Resolves when every listener promise started so far has settled. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  clear(): void {
    this.listeners.clear();
  }

  private track(outcome: Promise<void>, name: string): void {
    const settled = outcome.then(
      () => undefined,
      (error: unknown) => this.report(error, name),
    );
    this.pending.add(settled);
    void settled.finally(() => this.pending.delete(settled));
  }

  private report(error: unknown, name: string): void {
    try {
      this.onListenerError(error, name);
    } catch {
      // The error handler itself failed; there is nobody left to tell, and the publisher must not break.
    }
  }
}
