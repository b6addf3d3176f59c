// "identity-runtime/testing/vitest": registers `toBeOk` and `toBeErr` with vitest's `expect` and declares their
// types. Import it in a setup file (`setupFiles`) or at the top of a test file.
import { expect } from "vitest";
import { resultMatchers } from "./results.js";
import type { ResultMatchers } from "./results.js";

declare module "vitest" {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends ResultMatchers<T> {}
}

expect.extend(resultMatchers);
