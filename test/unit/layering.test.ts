// The layer rules of docs/architecture.md as a failing check: each folder of src/ may import
// only the folders listed for it, and the pure layers may import no npm package but zod.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, dirname, resolve } from "node:path";

const SRC = resolve(import.meta.dirname, "../../src");

const ALLOWED: Record<string, string[]> = {
  core: [],
  protocol: [],
  "guest-agent": ["protocol"],
  guest: ["protocol", "core"],
  config: ["core"],
  storage: ["core"],
  net: ["core"],
  images: ["core"],
  llm: ["core"],
  metrics: ["core"],
  runtimes: ["core", "protocol", "guest", "storage", "net", "images"],
  engine: ["core", "protocol", "guest", "storage", "runtimes", "net", "images", "config"],
  // What every front door and the SDK derive from: schemas and hints, nothing that runs.
  contract: ["core", "protocol", "config"],
  // Domain services (golden preparation, git in workspaces): below the orchestrator and the
  // operations, so both call them with explicit dependencies.
  domain: ["core", "protocol", "guest", "engine", "config", "images", "storage", "runtimes"],
  orchestrator: ["core", "protocol", "guest", "engine", "config", "llm", "domain", "contract"],
  operations: ["core", "protocol", "guest", "engine", "domain", "orchestrator", "config", "images", "storage", "runtimes", "contract"],
  // Front doors: into operations/ only through the invoker (FRONT_DOOR_ENTRY).
  api: ["core", "operations", "config", "contract"],
  mcp: ["core", "operations", "api", "config", "contract"],
  sdk: ["core", "api", "contract", "config"],
  // The web dashboard's server side (the page itself is web/dashboard/, bundled for the browser).
  dashboard: ["core", "operations"],
  // The composition root and the front door may see everything.
  compose: ["*"],
  cli: ["*"],
};

// The one file of operations/ the front doors may import: validation, admission, running and
// error mapping happen there, the same for every door.
const FRONT_DOORS = ["api", "mcp", "dashboard"];
const FRONT_DOOR_ENTRY = "operations/invoke.ts";

// Folders a layer may import only with `import type` (their interfaces, never their code).
const TYPES_ONLY: Record<string, string[]> = {
  domain: ["storage", "runtimes"],
  operations: ["storage", "runtimes"],
};

// npm packages a layer may use; undefined = any. Node builtins are always fine.
const PACKAGES: Record<string, string[] | undefined> = {
  protocol: ["zod"],
  "guest-agent": [],
  core: [],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  return importStatementsOf(file).map((i) => i.spec);
}

function importStatementsOf(file: string): Array<{ spec: string; typeOnly: boolean }> {
  const text = readFileSync(file, "utf8");
  const found: Array<{ spec: string; typeOnly: boolean }> = [];
  for (const match of text.matchAll(/(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
    found.push({ spec: (match[1] ?? match[2])!, typeOnly: /^(?:import|export)\s+type\s/.test(match[0]) });
  }
  return found;
}

function layerOf(file: string): string {
  return relative(SRC, file).split("/")[0]!;
}

function targetLayer(file: string, spec: string): string {
  return relative(SRC, resolve(dirname(file), spec)).split("/")[0]!;
}

test("every import in src/ follows the layer rules", () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const layer = relative(SRC, file).split("/")[0]!;
    const allowed = ALLOWED[layer];
    if (!allowed) {
      violations.push(`${relative(SRC, file)}: folder src/${layer} has no layer rule (add it to this test and docs/architecture.md)`);
      continue;
    }
    for (const spec of importsOf(file)) {
      if (spec.startsWith(".")) {
        const target = relative(SRC, resolve(dirname(file), spec)).split("/")[0]!;
        if (target !== layer && !allowed.includes("*") && !allowed.includes(target)) {
          violations.push(`${relative(SRC, file)} imports ${spec}: ${layer}/ may not import ${target}/`);
        }
        const imported = relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, ".ts");
        if (FRONT_DOORS.includes(layer) && target === "operations" && imported !== FRONT_DOOR_ENTRY) {
          violations.push(`${relative(SRC, file)} imports ${spec}: front doors reach operations/ only through ${FRONT_DOOR_ENTRY}`);
        }
      } else if (!spec.startsWith("node:")) {
        const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        const allowedPackages = PACKAGES[layer];
        if (allowedPackages && !allowedPackages.includes(pkg)) {
          violations.push(`${relative(SRC, file)} imports package ${spec}: ${layer}/ may use only ${allowedPackages.join(", ") || "node builtins"}`);
        }
      }
    }
  }
  assert.deepEqual(violations, []);
});

test("the orchestrator stands on domain services, never on operations, and domain services on neither", () => {
  assert.ok(!ALLOWED.orchestrator!.includes("operations"), "orchestrator/ may not import operations/: move what it needs into domain/");
  for (const lower of ["orchestrator", "operations"]) assert.ok(!ALLOWED.domain!.includes(lower), `domain/ may not import ${lower}/`);
  const upward: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const layer = layerOf(file);
    if (layer !== "orchestrator" && layer !== "domain") continue;
    for (const spec of importsOf(file).filter((s) => s.startsWith("."))) {
      const target = targetLayer(file, spec);
      if (target === "operations" || (layer === "domain" && target === "orchestrator")) upward.push(`${relative(SRC, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(upward, []);
});

test("domain services and operations import storage and runtimes for their types only", () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const typesOnly = TYPES_ONLY[layerOf(file)] ?? [];
    for (const { spec, typeOnly } of importStatementsOf(file)) {
      if (spec.startsWith(".") && typesOnly.includes(targetLayer(file, spec)) && !typeOnly) violations.push(`${relative(SRC, file)} imports ${spec} for more than its types`);
    }
  }
  assert.deepEqual(violations, []);
});
