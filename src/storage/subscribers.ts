import type { StorageChange } from "../core/storage.js";

export type TopicListener = (topic: string | undefined) => void;

/** The subscribers of one adapter, and the telling of topics to them. */
export class Subscribers {
  readonly #listeners = new Set<TopicListener>();

  get any(): boolean {
    return this.#listeners.size > 0;
  }

  add(listener: TopicListener): () => void {
    // Each subscription its own entry, even of one function twice.
    const entry: TopicListener = (topic) => listener(topic);
    this.#listeners.add(entry);
    return () => void this.#listeners.delete(entry);
  }

  /** Tells every subscriber, after the current call has resolved; a listener that throws harms nobody. */
  tell(topics: readonly (string | undefined)[]): void {
    if (topics.length === 0 || this.#listeners.size === 0) return;
    const listeners = [...this.#listeners];
    setImmediate(() => {
      for (const topic of topics) {
        for (const listener of listeners) {
          try {
            listener(topic);
          } catch {
            // A subscriber's failure is its own.
          }
        }
      }
    });
  }

  clear(): void {
    this.#listeners.clear();
  }
}

/** The topics the `notify` changes of a unit of work name, each once. */
export function topicsOf(changes: readonly StorageChange[]): string[] {
  return [...new Set(changes.flatMap((change) => (change.kind === "notify" ? [change.topic] : [])))];
}
