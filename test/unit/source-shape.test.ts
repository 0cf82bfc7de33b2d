// Two promises of docs/architecture.md as failing checks: no source file over 300 lines, and
// no import circle among the files of src/ (type-only imports count).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "../..");
const MAX_LINES = 300;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

test(`no file of src/ is over ${MAX_LINES} lines`, () => {
  const long = sourceFiles(join(REPO, "src"))
    .map((file) => ({ file: relative(REPO, file), lines: readFileSync(file, "utf8").split("\n").length - 1 }))
    .filter(({ lines }) => lines > MAX_LINES)
    .map(({ file, lines }) => `${file}: ${lines} lines`);
  assert.deepEqual(long, []);
});

test("no import circle among the files of src/", () => {
  const run = spawnSync(process.execPath, [join(REPO, "scripts/import-cycles.mjs"), join(REPO, "src")], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
