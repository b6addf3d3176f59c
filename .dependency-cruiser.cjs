// The architecture as rules, checked by `npm test` (`npm run lint:deps`). Capabilities depend on the core and
// on capabilities below them, in this order: identity-deletion ← relationships ← identity-metadata, messages ←
// requests. The Backbone composes the capabilities' parts, the runtime composes everything, HTTP serves a
// runtime. Adapters implement the storage port and are chosen only by the composition roots.
const CAPABILITIES = "(identity-metadata|identity-deletion|relationships|messages|requests)";
const ROOTS = "(backbone|runtime|http|storage)";

/** A capability may import the core and the capabilities given, nothing else of src. */
function capability(name, mayImport) {
  const allowed = ["core", name, ...mayImport].join("|");
  return {
    name: `${name}-imports-only-below-it`,
    comment: `${name} depends on the core${mayImport.length > 0 ? ` and on ${mayImport.join(", ")}` : ""} only`,
    severity: "error",
    from: { path: `^src/${name}/` },
    to: { path: "^src/", pathNot: `^src/(${allowed})/` },
  };
}

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No import cycles between files, type imports included.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-imports-only-core",
      comment: "The core is the shared kernel: it knows no capability, no adapter, no composition root.",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^src/", pathNot: "^src/core/" },
    },
    capability("identity-deletion", []),
    capability("relationships", ["identity-deletion"]),
    capability("identity-metadata", ["relationships"]),
    capability("messages", ["identity-deletion", "relationships"]),
    capability("requests", ["relationships", "messages"]),
    {
      name: "storage-adapters-import-only-core",
      comment: "An adapter implements the storage port and knows nothing of the domain.",
      severity: "error",
      from: { path: "^src/storage/" },
      to: { path: "^src/", pathNot: "^src/(core|storage)/" },
    },
    {
      name: "capabilities-never-import-composition-roots-or-adapters",
      comment: "Domain code sees the storage port only; the LocalBackbone, the runtime and HTTP compose it.",
      severity: "error",
      from: { path: `^src/${CAPABILITIES}/` },
      to: { path: `^src/${ROOTS}/` },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
