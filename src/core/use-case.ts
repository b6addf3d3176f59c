import { checkOf, errResult, fail, succeed, unexpected } from "./errors.js";
import type { CheckResult, RuntimeError, RuntimeResult } from "./errors.js";
import { validateRequest } from "./validation.js";
import type { RequestOf, RequestSchema, Field } from "./validation.js";

/**
 * Runs every facade call: refuses once the runtime is closed, validates the request, and turns anything
 * thrown into an `error.runtime.unknown` Result, so no facade ever throws or rejects. It also counts calls in
 * flight so that closing can wait for them.
 */
export class UseCaseRunner {
  private closed = false;
  private inFlight = 0;
  private whenIdle: (() => void) | undefined;

  /** @param refuseMutation why the identity may not change anything now (it has been deleted), if so. */
  constructor(
    private readonly refuseMutation: () => Promise<RuntimeError | undefined> = () =>
      Promise.resolve(undefined),
  ) {}

  /** Runs a call that only reads. */
  run<S extends Record<string, Field<unknown>>, T>(
    schema: RequestSchema<S>,
    request: unknown,
    work: (request: RequestOf<S>) => RuntimeResult<T> | Promise<RuntimeResult<T>>,
  ): Promise<RuntimeResult<T>> {
    return this.execute(schema, request, work);
  }

  /** Runs a call that changes something: refused once the identity has been deleted (behaviour §6). */
  mutate<S extends Record<string, Field<unknown>>, T>(
    schema: RequestSchema<S>,
    request: unknown,
    work: (request: RequestOf<S>) => RuntimeResult<T> | Promise<RuntimeResult<T>>,
  ): Promise<RuntimeResult<T>> {
    return this.execute(schema, request, async (valid) => {
      const refusal = await this.refuseMutation();
      return refusal === undefined ? work(valid) : errResult(refusal);
    });
  }

  /**
   * Runs a `can…` check: whether a mutating call would succeed now, without acting. A malformed request is an
   * Err; every other reason (including a deleted identity) is `{ isSuccess: false, code, message }`.
   */
  check<S extends Record<string, Field<unknown>>>(
    schema: RequestSchema<S>,
    request: unknown,
    wouldSucceed: (request: RequestOf<S>) => Promise<RuntimeResult<unknown>>,
  ): Promise<RuntimeResult<CheckResult>> {
    return this.execute(schema, request, async (valid) => {
      const refusal = await this.refuseMutation();
      return succeed(checkOf(refusal === undefined ? await wouldSucceed(valid) : errResult(refusal)));
    });
  }

  /** Refuses new calls and resolves once the calls in flight have finished. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.whenIdle = resolve));
  }

  private async execute<S extends Record<string, Field<unknown>>, T>(
    schema: RequestSchema<S>,
    request: unknown,
    work: (request: RequestOf<S>) => RuntimeResult<T> | Promise<RuntimeResult<T>>,
  ): Promise<RuntimeResult<T>> {
    if (this.closed) return fail("error.runtime.runtimeClosed");
    this.inFlight++;
    try {
      const valid = validateRequest(schema, request);
      return valid.err ? valid : await work(valid.val);
    } catch (error) {
      return unexpected(error);
    } finally {
      if (--this.inFlight === 0) this.whenIdle?.();
    }
  }
}
