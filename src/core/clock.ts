/**
 * Where the library reads the time. Injected everywhere, so grace and approval periods are testable.
 * @example
 * const clock: Clock = { now: () => new Date("2030-01-01T00:00:00.000Z") };
 * const runtime = await createRuntime({ backbone: new LocalBackbone(), clock });
 */
export interface Clock {
  /** The current instant. */
  now(): Date;
}

/**
 * The real time.
 * @example
 * const clock = new SystemClock();
 * console.log(clock.now().toISOString());
 */
export class SystemClock implements Clock {
  /** The current instant: `new Date()`. */
  now(): Date {
    return new Date();
  }
}

/**
 * A length of time, as the sum of its parts; a missing part counts as 0.
 * @example
 * const clock = new ManualClock();
 * clock.advance({ days: 1, hours: 12 });
 */
export interface Duration {
  /** Days of 24 hours. */
  days?: number;
  /** Hours. */
  hours?: number;
  /** Minutes. */
  minutes?: number;
  /** Seconds. */
  seconds?: number;
  /** Milliseconds. */
  ms?: number;
}

const MS_PER = { days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1_000, ms: 1 } as const;

export function durationToMs(duration: Duration): number {
  let total = 0;
  for (const unit of Object.keys(MS_PER) as (keyof Duration)[]) total += (duration[unit] ?? 0) * MS_PER[unit];
  return total;
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * MS_PER.days);
}

/**
 * A clock that only moves when told to.
 * @example
 * const clock = new ManualClock(new Date("2030-01-01T00:00:00.000Z"));
 * clock.advance({ days: 14 });
 */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }

  /** The instant the clock was set or advanced to last. */
  now(): Date {
    return new Date(this.current);
  }

  /** Moves the clock forward (a negative duration moves it back). */
  advance(duration: Duration): Date {
    const ms = durationToMs(duration);
    if (!Number.isFinite(ms)) throw new RangeError("ManualClock.advance needs finite numbers");
    this.current += ms;
    return this.now();
  }

  /** Sets the clock to the given instant. */
  set(date: Date): void {
    this.current = date.getTime();
  }
}
