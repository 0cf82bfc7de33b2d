// `agentiso init`'s pool step: the btrfs loop-file pool under the state dir is created once,
// found again by a second setup, and re-attached (same file, same data) after a "reboot".
import { describe, test, afterEach, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { runCommand } from "../../src/core/run-command.js";
import { BtrfsStorage } from "../../src/storage/btrfs-storage.js";
import { BtrfsLoopPool } from "../../src/storage/pool.js";
import { describeHolders, mountHolders } from "../../src/storage/mount-holders.js";
import { spawn } from "node:child_process";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { loopDevicesUnder, mountsMatching } from "../support/storage-leaks.js";

describe("btrfs loop-file pool setup", { skip: requires(hasCommand("mkfs.btrfs"), hasCommand("losetup"), isRoot()) }, () => {
  let stateDir: string;
  let pool: BtrfsLoopPool;

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "ais-pool-test-"));
    pool = new BtrfsLoopPool({ stateDir, tag: resourceTagFor(stateDir), logger: silentLogger, sizeBytes: 1024 ** 3 });
  });

  afterEach(async () => {
    try {
      await pool.detach();
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
    assert.deepEqual([...mountsMatching(stateDir), ...loopDevicesUnder(stateDir)], [], "the test left mounts or loop devices behind");
  });

  test("setup run twice gives one loop device, one mount and the same pool", async () => {
    const first = await pool.setup();
    assert.equal(first.action, "created");
    await writeFile(join(first.mountPoint, "marker"), "first");
    const second = await pool.setup();
    assert.equal(second.action, "already-mounted");
    assert.equal(second.loopDevice, first.loopDevice);
    assert.equal(loopDevicesUnder(stateDir).length, 1);
    assert.equal(mountsMatching(stateDir).length, 1);
    assert.equal(await readFile(join(second.mountPoint, "marker"), "utf8"), "first");
    assert.deepEqual(await readdir(join(stateDir, "pool")), [pool.imagePath.split("/").at(-1), "mnt"].sort());
  });

  test("after a reboot (file kept, nothing attached) setup re-attaches the same pool with quotas on", async () => {
    const first = await pool.setup();
    await writeFile(join(first.mountPoint, "marker"), "kept");
    await pool.detach();
    assert.deepEqual([...mountsMatching(stateDir), ...loopDevicesUnder(stateDir)], []);
    const again = await pool.setup();
    assert.equal(again.action, "reattached");
    assert.equal(await readFile(join(again.mountPoint, "marker"), "utf8"), "kept");
    await runCommand(["btrfs", "qgroup", "show", again.mountPoint]);
  });

  test("a loop device left bound to the file is reused, not duplicated", async () => {
    const first = await pool.setup();
    await runCommand(["umount", first.mountPoint]);
    const leftovers = await pool.loopDevices();
    await pool.setup();
    assert.deepEqual(await pool.loopDevices(), leftovers);
    assert.equal(mountsMatching(stateDir).length, 1);
  });

  test("a mount namespace made while the pool was mounted is named as what holds it after umount", async () => {
    const { loopDevice, mountPoint } = await pool.setup();
    // a private copy of the host's mounts, like `ip netns exec` on a host whose / is private
    const holder = spawn("unshare", ["--mount", "--propagation", "private", "--", "sleep", "60"], { stdio: "ignore" });
    try {
      await waitUntil(async () => (await mountHolders(loopDevice)).some((h) => h.pid === holder.pid));
      await runCommand(["umount", "--", mountPoint]);
      const holders = await mountHolders(loopDevice);
      assert.deepEqual(holders.map((h) => h.pid), [holder.pid]);
      assert.match(describeHolders(holders), new RegExp(`pid ${holder.pid} \\(sleep 60\\)`));
    } finally {
      holder.kill("SIGKILL");
      await new Promise((resolve) => holder.once("exit", resolve));
    }
    assert.deepEqual(await mountHolders(loopDevice), []);
  });

  test("concurrent setups share one attempt", async () => {
    const results = await Promise.all([pool.setup(), pool.setup(), pool.setup()]);
    assert.deepEqual(new Set(results.map((r) => r.loopDevice)).size, 1);
    assert.equal(loopDevicesUnder(stateDir).length, 1);
    assert.equal(mountsMatching(stateDir).length, 1);
  });

  test("the btrfs driver's setup is idempotent and its close leaves nothing attached", async () => {
    const driver = new BtrfsStorage({ stateDir, tag: resourceTagFor(stateDir), logger: silentLogger, loopPoolSizeBytes: 1024 ** 3 });
    await driver.setup();
    await driver.setup();
    assert.equal(mountsMatching(stateDir).length, 1);
    assert.equal(loopDevicesUnder(stateDir).length, 1);
    await driver.close();
    assert.deepEqual([...mountsMatching(stateDir), ...loopDevicesUnder(stateDir)], []);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
