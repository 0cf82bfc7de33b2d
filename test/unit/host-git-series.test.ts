// host-git lands an integrated branch as a series: one commit per patch, each on the previous,
// without touching the work tree, index or current branch, and an existing branch is not
// overwritten; a patch of the series that does not apply writes no branch at all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commitPatchSeriesOnBranch, openHostRepo } from "../../src/core/host-git.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { runCommand } from "../../src/core/run-command.js";

const AUTHOR = { name: "agentiso", email: "agentiso@localhost" };
const git = async (cwd: string, ...args: string[]) => (await runCommand(["git", "-C", cwd, "-c", "user.email=t@agentiso", "-c", "user.name=t", "-c", "core.hooksPath=/dev/null", ...args])).stdout.trim();

test("a series of patches becomes one commit each on a new branch cut from base; the repo's checkout is untouched", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ais-series-"));
  try {
    const repoDir = join(dir, "repo");
    await runCommand(["git", "init", "-q", "-b", "main", repoDir]);
    writeFileSync(join(repoDir, "a.txt"), "one\n");
    await git(repoDir, "add", "-A");
    await git(repoDir, "commit", "-qm", "initial");
    const base = await git(repoDir, "rev-parse", "HEAD");
    const first = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+ONE\n";
    const second = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1,2 @@\n ONE\n+two\n";
    const repo = await openHostRepo(repoDir);
    const commits = [
      { patch: first, message: ["agentiso: first"] },
      { patch: second, message: ["agentiso: second (conflict resolved by the resolver agent)"] },
    ];
    const head = await commitPatchSeriesOnBranch(repo, { base, branch: "agentiso/r1/integrated", commits, author: AUTHOR });
    assert.equal(await git(repoDir, "rev-parse", "agentiso/r1/integrated"), head);
    assert.equal(await git(repoDir, "log", "--format=%s", `${base}..${head}`), "agentiso: second (conflict resolved by the resolver agent)\nagentiso: first");
    assert.equal(await git(repoDir, "show", `${head}:a.txt`), "ONE\ntwo");
    assert.equal(await git(repoDir, "rev-parse", `${head}~2`), base);
    assert.equal(await git(repoDir, "status", "--porcelain"), "");
    assert.equal(await git(repoDir, "rev-parse", "--abbrev-ref", "HEAD"), "main");

    const again = await commitPatchSeriesOnBranch(repo, { base, branch: "agentiso/r1/integrated", commits, author: AUTHOR }).catch((err: unknown) => err);
    assert.ok(isAgentisoError(again, "CONFLICT"), "an existing branch is not overwritten");
    const broken = await commitPatchSeriesOnBranch(repo, { base, branch: "agentiso/r2/integrated", commits: [commits[1]!], author: AUTHOR }).catch((err: unknown) => err);
    assert.ok(isAgentisoError(broken, "CONFLICT"));
    assert.equal(await git(repoDir, "branch", "--list", "agentiso/r2/*"), "", "no branch for a series that did not apply");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
