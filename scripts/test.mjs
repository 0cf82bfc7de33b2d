// Runs the test suite with node's own test runner over TypeScript (via tsx).
// Usage: node scripts/test.mjs [DIR|FILE ...]   (default: test/)
// The bundles are built first because integration tests start the real guest agent.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const roots = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith("--"));

function collect(path) {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((entry) => {
      const full = join(path, entry.name);
      if (entry.isDirectory()) return collect(full);
      return entry.name.endsWith(".test.ts") ? [full] : [];
    })
    .sort();
}

const build = spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const files = (roots.length ? roots : ["test"]).flatMap(collect);
const concurrency = process.env.AGENTISO_TEST_CONCURRENCY ?? "2";
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...passThrough, ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
