// Builds what runs outside `tsx`: the guest agent as ONE CommonJS file for Node >= 18
// (Debian bookworm's nodejs) with no node_modules, and the CLI for the `agentiso` bin.
import { build } from "esbuild";
import { existsSync } from "node:fs";

// zod's classic API re-exports every locale (`z.locales`, 260 KB of the agent's 480 KB); the
// agent uses none (English is registered by zod's schemas.js itself), so they are left out:
// a smaller file to read and parse at every workspace start.
const withoutZodLocales = {
  name: "without-zod-locales",
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: args.path, namespace: "zod-locales-stub" } : undefined));
    build.onLoad({ filter: /.*/, namespace: "zod-locales-stub" }, () => ({ contents: "export {};", loader: "js" }));
  },
};

const bundles = [
  {
    entryPoints: ["src/guest-agent/main.ts"],
    outfile: "dist/agentiso-guest.cjs",
    format: "cjs",
    target: "node18",
    banner: { js: "#!/usr/bin/env node" },
    // The agent must not depend on anything installed in the workspace.
    packages: "bundle",
    // Every workspace start parses this file: minified, Node starts the agent ~20 ms sooner.
    minify: true,
    plugins: [withoutZodLocales],
  },
  {
    entryPoints: ["src/cli/main.ts"],
    outfile: "dist/cli.mjs",
    format: "esm",
    target: "node20",
    // Everything but the native addon is bundled: resolving dozens of ESM packages at start
    // costs ~100 ms, and `agentiso serve` must answer tools/list fast. Bundled CommonJS code
    // needs a `require`.
    external: ["better-sqlite3"],
    banner: { js: "import { createRequire as __agentisoCreateRequire } from 'node:module'; const require = __agentisoCreateRequire(import.meta.url);" },
  },
];

for (const options of bundles) {
  if (!existsSync(options.entryPoints[0])) continue;
  await build({ bundle: true, platform: "node", sourcemap: "linked", logLevel: "warning", ...options });
}
