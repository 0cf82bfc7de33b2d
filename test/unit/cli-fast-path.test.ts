// The CLI's fast path (src/cli/fast-path.ts) stays fast only while what it loads stays small:
// these checks fail when a change pulls zod or the contracts into `ws exec` / `ws fork`, or
// when a hot command's wire name drifts from its contract.
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { build } from "esbuild";
import { contracts } from "../../src/contract/registry.js";
import { HOT_OPERATIONS } from "../../src/cli/commands/hot-operations.js";

const REPO = resolve(import.meta.dirname, "../..");

test("the fast path's code loads neither zod nor any operation contract", async () => {
  // split as the CLI's build splits it: what is import()ed later is not loaded up front
  const result = await build({
    entryPoints: [resolve(REPO, "src/cli/fast-path.ts")],
    bundle: true,
    splitting: true,
    outdir: "/fast-path-check",
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    logLevel: "silent",
  });
  const outputs = result.metafile.outputs;
  const entry = Object.keys(outputs).find((file) => outputs[file]!.entryPoint !== undefined)!;
  const loaded = new Set<string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const next of outputs[file]!.imports) if (next.kind === "import-statement" && outputs[next.path]) visit(next.path);
  };
  visit(entry);
  const inputs = [...loaded].flatMap((file) => Object.keys(outputs[file]!.inputs));
  assert.ok(inputs.some((path) => path.endsWith("src/cli/commands/exec-command.ts")), `the bundle was not what this test thinks: ${inputs.join(", ")}`);
  const heavy = inputs.filter((path) => path.includes("node_modules/zod/") || /src\/(contract\/.*-contracts?|config\/config)\.ts$/.test(path));
  assert.deepEqual(heavy, []);
});

test("each hot command sends the operation its contract names", () => {
  for (const [key, name] of Object.entries(HOT_OPERATIONS)) {
    assert.equal(contracts[key as keyof typeof HOT_OPERATIONS].name, name, key);
  }
});
