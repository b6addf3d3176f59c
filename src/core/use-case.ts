import { fail, unexpected } from "./errors.js";
import type { RuntimeResult } from "./errors.js";
import { validateRequest } from "./validation.js";
import type { RequestOf, RequestSchema, Field } from "./validation.js";

/**
 * Runs every facade call: refuses once the runtime is closed, validates the request, and turns anything
 * thrown into an `error.runtime.unknown` Result, so no facade ever throws or rejects. It also counts calls in
 * flight so that closing can wait for them.
 */
export class UseCaseRunner {
  private closed = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  run<S extends Record<string, Field<unknown>>, T>(
    schema: RequestSchema<S>,
    request: unknown,
    work: (request: RequestOf<S>) => Promise<RuntimeResult<T>>,
  ): Promise<RuntimeResult<T>> {
    if (this.closed) return Promise.resolve(fail("error.runtime.runtimeClosed"));
    const call = this.execute(schema, request, work);
    this.inFlight.add(call);
    void call.finally(() => this.inFlight.delete(call));
    return call;
  }

  /** Refuses new calls and resolves once the calls in flight have finished. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async execute<S extends Record<string, Field<unknown>>, T>(
    schema: RequestSchema<S>,
    request: unknown,
    work: (request: RequestOf<S>) => Promise<RuntimeResult<T>>,
  ): Promise<RuntimeResult<T>> {
    try {
      const valid = validateRequest(schema, request);
      return valid.err ? valid : await work(valid.val);
    } catch (error) {
      return unexpected(error);
    }
  }
}
