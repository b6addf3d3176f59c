// "identity-runtime/testing/jest": registers `toBeOk` and `toBeErr` with jest's `expect` and declares their
// types. Import it in a setup file (`setupFilesAfterEnv`) or at the top of a test file.
import { resultMatchers } from "./results.js";
import type { ResultMatchers } from "./results.js";

declare global {
  // The namespace of @types/jest, which declares `expect`'s matchers there.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars
    interface Matchers<R, T = {}> extends ResultMatchers<R> {}
  }
}

const expect = (globalThis as { expect?: { extend?: (matchers: object) => void } }).expect;
if (typeof expect?.extend !== "function") {
  throw new Error(
    "identity-runtime/testing/jest: no global `expect` to extend; import it inside jest (with injectGlobals), or call expect.extend(resultMatchers) yourself",
  );
}
expect.extend(resultMatchers);
