import type { Clock } from "../core/clock.js";

// setTimeout's longest delay; a later due instant is reached in steps.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * The LocalBackbone's timer for due jobs, when it runs them itself: set for the next due instant, and after a
 * failed run for a retry (1 s, doubling up to a minute). It never keeps the process alive.
 */
export class DueJobScheduler {
  readonly #clock: Clock;
  readonly #nextDueInstant: () => Promise<number | undefined>;
  readonly #run: () => void;
  #timer: NodeJS.Timeout | undefined;
  #retryDelayMs = 0;
  #stopped = false;

  constructor(parts: { clock: Clock; nextDueInstant: () => Promise<number | undefined>; run: () => void }) {
    this.#clock = parts.clock;
    this.#nextDueInstant = parts.nextDueInstant;
    this.#run = parts.run;
  }

  /** Sets the timer for the next due instant, after a due-job run or a change of a process that succeeded. */
  async reschedule(): Promise<void> {
    if (this.#stopped) return;
    this.#retryDelayMs = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const due = await this.#nextDueInstant();
    if (due === undefined || this.#stopped) return;
    // Due means "passed": one millisecond after the end instant.
    const delay = Math.min(Math.max(due + 1 - this.#clock.now().getTime(), 0), MAX_TIMER_DELAY_MS);
    this.#set(delay);
  }

  /** After a failed run, tries again later. */
  retryLater(): void {
    if (this.#stopped) return;
    this.#retryDelayMs = Math.min(Math.max(this.#retryDelayMs * 2, 1_000), 60_000);
    clearTimeout(this.#timer);
    this.#set(this.#retryDelayMs);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #set(delay: number): void {
    this.#timer = setTimeout(() => this.#run(), delay);
    this.#timer.unref();
  }
}
