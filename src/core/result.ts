// The Result type of the design card, ts-results 3.3.0, behind this one module: everything else imports Ok, Err
// and Result from here, so the library could change its Result implementation in one place.
//
// What ts-results needs, written down once:
// - Its package "main" is a UMD build that require()s tslib without declaring it, and Node's ESM loader cannot
//   see that build's named exports. The published bundle therefore includes ts-results' own ESM build
//   (tsup.config.ts: `noExternal`, `mainFields`); it stays a dependency for its type declarations.
// - Where tsx runs the sources as native ESM (`npm run demo`, `npm run bench`), tsconfig.run.json maps
//   "ts-results" to that ESM build for the same reason.
// - Jest runs CommonJS and so loads the UMD build, which is why tslib is a devDependency.
// - Every `Err` captures a stack trace when constructed; `errWithoutStack` below avoids that cost.
import { Err, Ok } from "ts-results";
import type { Result } from "ts-results";

export { Err, Ok };
export type { Result };

/**
 * An `Err` without the stack trace ts-results captures on construction: errors such as notFound are ordinary
 * answers on hot paths, and their stack would only say "inside the library". The global limit is restored at once.
 */
export function errWithoutStack<E>(error: E): Err<E> {
  const previousLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Err(error);
  } finally {
    Error.stackTraceLimit = previousLimit;
  }
}
