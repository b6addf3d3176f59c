import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    testing: "src/testing.ts",
    "testing-jest": "src/testing/jest.ts",
    "testing-vitest": "src/testing/vitest.ts",
    cli: "src/cli.ts",
  },
  format: ["esm", "cjs"],
  // The sources without test-runner types (see tsconfig.src.json).
  tsconfig: "tsconfig.src.json",
  target: "node20",
  platform: "node",
  // tsup's dts step injects `baseUrl`, which TypeScript 6 reports as deprecated (TS5101).
  // Silence that only for the dts build; the project tsconfig keeps deprecations visible.
  dts: {
    compilerOptions: {
      ignoreDeprecations: "6.0",
    },
  },
  clean: true,
  sourcemap: true,
  splitting: true,
  // ts-results ships a UMD "main" (needs tslib at runtime, and Node's ESM loader cannot
  // see its named exports) plus a plain-ESM "module" build. Bundle it, and prefer the
  // "module" field so the bundled copy is its ESM build (no tslib, no require()).
  noExternal: ["ts-results"],
  esbuildOptions(options) {
    options.mainFields = ["module", "main"];
  },
});
