// Collecting a worker's changes in one exec, against a real git repo through an in-process
// guest agent: names and a patch that applies, setup output excluded by the baseline.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { runCommand } from "../../src/core/run-command.js";
import { collectChanges, parseCollected } from "../../src/domain/collect-changes.js";
import { startInProcessAgent } from "../support/in-process-agent.js";

async function git(repo: string, ...args: string[]): Promise<string> {
  return (await runCommand(["git", "-C", repo, "-c", "user.email=t@agentiso", "-c", "user.name=t", ...args])).stdout;
}

async function repoWithBaseline(dir: string): Promise<{ repo: string; baseline: string }> {
  const repo = join(dir, "repo");
  await runCommand(["git", "init", "-q", repo]);
  writeFileSync(join(repo, "a.txt"), "one\n");
  await git(repo, "add", ".");
  await git(repo, "commit", "-qm", "initial");
  writeFileSync(join(repo, "setup-output.txt"), "from setup\n");
  const baseline = (await runCommand(["sh", "-c", "git add -A && git write-tree && git reset -q"], { cwd: repo })).stdout.trim();
  return { repo, baseline };
}

const CAP = { maxBytes: 1024 ** 2, what: "the patch of task t" };

describe("collect changes", () => {
  test("changed, new and binary files come back as names and a patch that applies to the baseline", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ais-orch-collect-"));
    await using guest = startInProcessAgent();
    try {
      const { repo, baseline } = await repoWithBaseline(dir);
      writeFileSync(join(repo, "a.txt"), "ONE\n");
      writeFileSync(join(repo, "new file.txt"), "new\n");
      writeFileSync(join(repo, "blob.bin"), Buffer.from([0, 1, 2, 255, 0, 10]));
      const changes = await collectChanges(guest.client, repo, baseline, CAP);
      assert.deepEqual(changes.files.sort(), ["a.txt", "blob.bin", "new file.txt"]);
      assert.match(changes.patch, /\+ONE/);
      assert.doesNotMatch(changes.patch, /setup-output/, "what setup left is in the baseline, not the patch");

      const clone = join(dir, "clone");
      await runCommand(["git", "clone", "-q", repo, clone]);
      writeFileSync(join(clone, "setup-output.txt"), "from setup\n");
      writeFileSync(join(dir, "task.patch"), changes.patch);
      await git(clone, "apply", "--check", join(dir, "task.patch"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an untouched worker has no files and an empty patch", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ais-orch-collect-"));
    await using guest = startInProcessAgent();
    try {
      const { repo, baseline } = await repoWithBaseline(dir);
      assert.deepEqual(await collectChanges(guest.client, repo, baseline, CAP), { files: [], patch: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a list without its end marker is refused rather than misread", () => {
    assert.throws(() => parseCollected(Buffer.from("a.txt")), /no end of the file list/);
    assert.deepEqual(parseCollected(Buffer.from("a.txt\0\0diff")), { files: ["a.txt"], patch: "diff" });
  });

  test("a patch over its cap is refused with TOO_LARGE naming the setting, not held", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ais-orch-collect-"));
    await using guest = startInProcessAgent();
    try {
      const { repo, baseline } = await repoWithBaseline(dir);
      writeFileSync(join(repo, "big.txt"), "x".repeat(200_000) + "\n");
      await assert.rejects(collectChanges(guest.client, repo, baseline, { ...CAP, maxBytes: 100_000 }), (err) =>
        isAgentisoError(err, "TOO_LARGE") && /the patch of task t is too large.*100000 bytes.*\[caps\] patchBytes/.test(err.message),
      );
      assert.ok((await collectChanges(guest.client, repo, baseline, CAP)).patch.length > 200_000, "under the cap the same patch comes back whole");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
