// Deleting a build directory never reaches through a mount left inside it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mountPointsUnder, removeTree } from "../../src/images/remove-tree.js";
import { runCommand } from "../../src/core/run-command.js";
import { isRoot, requires } from "../support/prereq.js";

describe("removeTree", () => {
  test("a missing directory is fine", async () => {
    await removeTree(join(tmpdir(), `agentiso-absent-${process.pid}-${Date.now()}`));
  });

  test("mounts left inside are unmounted and the files behind a bind mount survive", { skip: requires(isRoot()) }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentiso-remove-tree-"));
    const precious = await mkdtemp(join(tmpdir(), "agentiso-precious-"));
    try {
      await writeFile(join(precious, "keep"), "host file");
      const build = join(dir, "build");
      await mkdir(join(build, "rootfs/dev"), { recursive: true });
      await mkdir(join(build, "rootfs/proc"), { recursive: true });
      await runCommand(["mount", "--bind", precious, join(build, "rootfs/dev")]);
      await runCommand(["mount", "-t", "tmpfs", "tmpfs", join(build, "rootfs/proc")]);
      assert.equal((await mountPointsUnder(build)).length, 2);
      await removeTree(build);
      assert.deepEqual(await mountPointsUnder(build), []);
      await assert.rejects(access(build));
      assert.equal(await readFile(join(precious, "keep"), "utf8"), "host file");
    } finally {
      for (const point of await mountPointsUnder(dir)) await runCommand(["umount", "-l", point], { check: false });
      await rm(dir, { recursive: true, force: true });
      await rm(precious, { recursive: true, force: true });
    }
  });
});
