// @ts-check
/**
 * Jest runs in its default CommonJS mode. ts-jest transpiles each file in isolation
 * (`isolatedModules: true` in tsconfig.jest.json => ts.transpileModule, no type checking;
 * `npm run typecheck` does that). tsconfig.jest.json extends the main tsconfig but
 * emits CommonJS and turns off verbatimModuleSyntax, which would otherwise reject
 * ESM syntax in a CommonJS emit.
 *
 * Under Jest, `ts-results` loads through its UMD "main" build, which require()s tslib
 * (a devDependency for exactly this reason); the published build bundles ts-results' ESM
 * build instead (see tsup.config.ts; the reasons are written down once, in src/core/result.ts).
 *
 * @type {import("jest").Config}
 */
const config = {
  // Every run says which storage its test worlds use (tests/run-suite.mjs runs the suite again on each).
  displayName: `worlds on ${process.env.IDENTITY_RUNTIME_TEST_STORAGE ?? "loki"}`,
  testEnvironment: "node",
  testMatch: ["<rootDir>/tests/**/*.test.ts"],
  moduleFileExtensions: ["ts", "js", "cjs", "mjs", "json"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.jest.json" }],
  },
  // Allow NodeNext-style relative specifiers ("./foo.js") in TypeScript sources.
  moduleNameMapper: {
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  modulePathIgnorePatterns: ["<rootDir>/dist/"],
  collectCoverageFrom: ["src/**/*.ts"],
  clearMocks: true,
  restoreMocks: true,
};

export default config;
