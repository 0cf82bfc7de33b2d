// The storage contract against btrfs on a real loop-file pool created under a fresh state dir,
// and what only btrfs does: simple quotas with one qgroup per workspace, a nosuid,nodev mount.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { BtrfsStorage } from "../../src/storage/btrfs-storage.js";
import { qgroupUsageById, quotaMode } from "../../src/storage/btrfs-cli.js";
import { runCommand } from "../../src/core/run-command.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { describeStorageDriver } from "../support/storage-contract.js";
import { loopDevicesUnder, mountsMatching } from "../support/storage-leaks.js";

describeStorageDriver(
  "btrfs",
  async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "ais-btrfs-test-"));
    const driver = new BtrfsStorage({ stateDir, tag: resourceTagFor(stateDir), logger: silentLogger, loopPoolSizeBytes: 4 * 1024 ** 3 });
    return {
      driver,
      leaks: () => Promise.resolve([...mountsMatching(stateDir), ...loopDevicesUnder(stateDir)]),
      teardown: async () => {
        try {
          await driver.close();
        } finally {
          await rm(stateDir, { recursive: true, force: true });
        }
      },
    };
  },
  { skip: requires(hasCommand("mkfs.btrfs"), hasCommand("qemu-io"), hasCommand("debugfs"), isRoot()) },
);

describe("btrfs pool: simple quotas, one group per workspace, nosuid", { skip: requires(hasCommand("mkfs.btrfs"), isRoot()) }, () => {
  let stateDir: string;
  let driver: BtrfsStorage;
  let source: string;
  const mnt = () => join(stateDir, "pool", "mnt");
  const groups = async () => [...(await qgroupUsageById(mnt())).keys()];

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "ais-btrfs-q-"));
    source = join(stateDir, "rootfs");
    await mkdir(join(source, "etc"), { recursive: true });
    await writeFile(join(source, "etc", "hostname"), "base\n");
    driver = new BtrfsStorage({ stateDir, tag: resourceTagFor(stateDir), logger: silentLogger, loopPoolSizeBytes: 1024 ** 3 });
    await driver.setup();
    await driver.importBase("base", { kind: "rootfs-dir", path: source });
  });
  after(async () => {
    try {
      for (const ws of await driver.listWorkspaces()) await driver.destroyWorkspace(ws.name);
      await driver.deleteBase("base");
      await driver.close();
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  test("a new pool has simple quotas and is mounted nosuid,nodev", async () => {
    assert.equal(await quotaMode(mnt()), "simple");
    assert.equal(driver.capabilities.quotaCoversSnapshots, true);
    const options = readFileSync("/proc/self/mounts", "utf8").split("\n").filter((line) => line.split(" ")[1] === mnt()).map((line) => line.split(" ")[3]!);
    assert.equal(options.length, 1);
    assert.match(options[0]!, /(^|,)nosuid(,|$)/);
    assert.match(options[0]!, /(^|,)nodev(,|$)/);
  });

  test("each workspace gets a group of its own, its snapshots join it, and destroyed workspaces leave no group behind", async () => {
    await driver.createWorkspace("a", { base: "base", quotaBytes: 64 * 1024 ** 2 });
    await driver.createWorkspace("b", { base: "base" });
    await driver.snapshot("a", "s1");
    await driver.forkWorkspace("c", { from: "a", snapshot: "s1" });
    assert.equal((await groups()).length, 3, "one group each for a, b and the fork c");
    const members = (await runCommand(["btrfs", "qgroup", "show", "-c", "--raw", mnt()])).stdout;
    assert.ok(members.split("\n").some((line) => /^1\/\d+\s+\d+\s+\d+\s+0\/\d+,0\/\d+\s/.test(line)), `a's group holds its live volume and its snapshot:\n${members}`);
    for (const name of ["c", "b", "a"]) await driver.destroyWorkspace(name);
    // the cleaner drops the subvolumes in the background; the next setup destroys what was left
    await runCommand(["btrfs", "filesystem", "sync", mnt()]); // a commit wakes the cleaner
    await runCommand(["btrfs", "subvolume", "sync", mnt()]);
    await driver.setup();
    assert.deepEqual(await groups(), []);
  });
});
