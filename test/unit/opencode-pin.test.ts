// The pinned opencode is package.json's opencode-linux-x64: the version the orchestrator speaks
// (OPENCODE_VERSION, checked in every golden) and the opencode image's recipe must say the same.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OPENCODE_VERSION } from "../../src/orchestrator/opencode/opencode-command.js";
import { REPO_DIR } from "../support/base-image.js";

test("OPENCODE_VERSION and images/opencode.sh follow package.json's opencode-linux-x64 pin", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_DIR, "package.json"), "utf8")) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  const pinned = { ...pkg.devDependencies, ...pkg.optionalDependencies, ...pkg.dependencies }["opencode-linux-x64"];
  assert.match(pinned ?? "", /^\d+\.\d+\.\d+$/, "package.json pins opencode-linux-x64 exactly");
  assert.equal(OPENCODE_VERSION, pinned);
  const recipe = readFileSync(join(REPO_DIR, "images/opencode.sh"), "utf8");
  assert.equal(/^OPENCODE_VERSION=(\S+)$/m.exec(recipe)?.[1], pinned);
});
