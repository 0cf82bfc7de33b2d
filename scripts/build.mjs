// Builds what runs outside `tsx`: the guest agent as ONE CommonJS file for Node >= 18
// (Debian bookworm's nodejs) with no node_modules, and the CLI for the `agentiso` bin.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

// zod's classic API re-exports every locale (`z.locales`, 260 KB of the agent's 480 KB); the
// agent and the CLI use none (English is registered by zod's schemas.js itself), so they are
// left out: less to read and parse at every workspace start and every CLI call.
const withoutZodLocales = {
  name: "without-zod-locales",
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: args.path, namespace: "zod-locales-stub" } : undefined));
    build.onLoad({ filter: /.*/, namespace: "zod-locales-stub" }, () => ({ contents: "export {};", loader: "js" }));
  },
};

// child_process keeps state Node does not promise to restore from a snapshot: the snapshot's
// agent loads it on first use, after deserialization (exports are the names the agent imports).
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, () => ({ path: "child_process", namespace: "lazy-child-process" }));
    build.onLoad({ filter: /.*/, namespace: "lazy-child-process" }, () => ({
      loader: "js",
      // the id in a variable: esbuild leaves that require to run time instead of resolving it back to this module
      contents: ['const id = "node:child_process";', ...["spawn", "execFile"].map((name) => `export function ${name}(...args) { return require(id).${name}(...args); }`)].join("\n"),
    }));
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
    entryPoints: { cli: "src/cli/entry.ts" },
    outdir: "dist",
    outExtension: { ".js": ".mjs" },
    format: "esm",
    target: "node20",
    // Everything but the native addon is bundled: resolving dozens of ESM packages at start
    // costs ~100 ms, and `agentiso serve` must answer tools/list fast. What a command imports
    // with import() (the engine, the MCP SDK, the orchestrator) goes to chunks loaded by that
    // command only: `agentiso ws exec` parses a fraction of the code. Bundled CommonJS code
    // needs a `require` (the banner goes into every chunk).
    splitting: true,
    chunkNames: "cli-chunks/[name]-[hash]",
    external: ["better-sqlite3"],
    plugins: [withoutZodLocales],
    banner: { js: "import { createRequire as __agentisoCreateRequire } from 'node:module'; const require = __agentisoCreateRequire(import.meta.url);" },
  },
  {
    // The SDK (`import { connect } from "agentiso"`): a library, so its npm dependencies (zod)
    // stay imports the consumer's node_modules resolves; its types come from tsconfig.sdk.json.
    entryPoints: { sdk: "src/sdk/index.ts" },
    outdir: "dist",
    outExtension: { ".js": ".mjs" },
    format: "esm",
    target: "node20",
    packages: "external",
  },
];

// chunk names carry content hashes: drop the previous build's
rmSync("dist/cli-chunks", { recursive: true, force: true });
for (const options of bundles) {
  if (!Object.values(options.entryPoints).every((entry) => existsSync(entry))) continue;
  await build({ bundle: true, platform: "node", sourcemap: "linked", logLevel: "warning", ...options });
}

await buildDashboard();
await buildAgentSnapshot();
buildSdkTypes();

// The web dashboard's page (web/dashboard/: Preact and uPlot from node_modules, no CDN) into
// dist/dashboard/, which the daemon serves. Its size is printed: the JS must stay < 150 KB gz.
async function buildDashboard() {
  const outdir = "dist/dashboard";
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { app: "web/dashboard/main.tsx" },
    outdir,
    bundle: true,
    platform: "browser",
    format: "iife",
    target: ["chrome110", "firefox110", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
  });
  copyFileSync("web/dashboard/index.html", `${outdir}/index.html`);
  const gz = (file) => gzipSync(readFileSync(`${outdir}/${file}`)).length;
  const js = gz("app.js");
  console.log(`dashboard: app.js ${(js / 1024).toFixed(1)} KB gz, app.css ${(gz("app.css") / 1024).toFixed(1)} KB gz`);
  if (js > 150 * 1024) throw new Error(`the dashboard's JS is ${js} bytes gzipped: over the 150 KB budget`);
}

// The SDK's .d.ts files (dist/types/sdk/index.d.ts is package.json's "types").
function buildSdkTypes() {
  rmSync("dist/types", { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.sdk.json"], { stdio: "inherit" });
  if (tsc.status !== 0) throw new Error("the SDK's type declarations did not build (tsc -p tsconfig.sdk.json)");
}

// The agent again, as a V8 startup snapshot of THIS node binary (the host's node the container
// runtime runs the agent with): modules parsed and zod schemas built at build time, so a
// workspace's agent starts from deserialization (~30 ms of CPU less per start). The sidecar
// names the binary and version it fits; any other node ignores the blob and runs the .cjs.
async function buildAgentSnapshot() {
  const script = "dist/agentiso-guest.snapshot.js";
  const blob = "dist/agentiso-guest.snapshot.blob";
  const sidecar = "dist/agentiso-guest.snapshot.json";
  for (const file of [blob, sidecar]) rmSync(file, { force: true });
  await build({
    entryPoints: ["src/guest-agent/main.ts"],
    outfile: script,
    bundle: true,
    platform: "node",
    // the snapshot builder runs a plain script whose `require` loads built-ins only
    format: "iife",
    target: `node${process.versions.node.split(".")[0]}`,
    minify: true,
    logLevel: "warning",
    plugins: [withoutZodLocales, lazyChildProcess],
  });
  const built = spawnSync(process.execPath, ["--snapshot-blob", blob, "--build-snapshot", script], { encoding: "utf8" });
  if (built.status !== 0) {
    rmSync(blob, { force: true });
    console.warn(`agent startup snapshot not built (the agent starts from the bundle instead): ${built.stderr.trim().split("\n").pop()}`);
    return;
  }
  writeFileSync(sidecar, `${JSON.stringify({ node: process.version, execPath: process.execPath, arch: process.arch })}\n`);
}
