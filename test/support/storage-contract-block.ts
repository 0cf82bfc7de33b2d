// The block-volume half of the storage contract: what the VM runtime relies on. A disk-image
// base gives each workspace a disk (raw/qcow2 file or device) whose writes stay its own,
// through snapshots, forks and restore. Bytes are written and checked with qemu-io, which
// reads raw and qcow2 (with its backing chain) alike.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { runCommand } from "../../src/core/run-command.js";
import type { RootfsHandle, StorageDriver } from "../../src/storage/storage-driver.js";

const MiB = 1024 * 1024;

// Registers the block-volume contract tests; skipped with the reason where unsupported.
export function describeBlockVolumes(getDriver: () => StorageDriver, getScratch: () => string, skipReason?: string): void {
  describe("block volumes for VMs", { skip: skipReason ?? false }, () => {
    test("a disk-image base gives each VM workspace a disk whose writes stay its own", async (t) => {
      const driver = getDriver();
      const image = join(getScratch(), "disk.raw");
      await writeRawImage(image, 16 * MiB);
      if (!driver.capabilities.blockVolumes) {
        await assert.rejects(driver.importBase("disk", { kind: "disk-image", path: image }), (e: unknown) => isAgentisoError(e, "UNSUPPORTED"));
        t.skip(`${driver.kind} cannot hand out block volumes here`);
        return;
      }
      await driver.importBase("disk", { kind: "disk-image", path: image });
      await driver.createWorkspace("vm-a", { base: "disk" });
      const a = await blockOf(driver, "vm-a");
      await qemuIo(a, "write -P 0x22 1M 64k");
      await driver.snapshot("vm-a", "booted");
      await driver.forkWorkspace("vm-b", { from: "vm-a", snapshot: "booted" });
      const b = await blockOf(driver, "vm-b");
      await qemuIo(b, "write -P 0x33 1M 64k");
      await qemuIo(a, "write -P 0x44 2M 64k");
      assert.equal(await hasPattern(a, "0x22 1M 64k"), true, "the origin lost its own write");
      assert.equal(await hasPattern(b, "0x33 1M 64k"), true, "the fork lost its own write");
      assert.equal(await hasPattern(b, "0x44 2M 64k"), false, "a write to the origin leaked into the fork");
      assert.equal(await hasPattern(b, "0x11 0 64k"), true, "the fork lost the base's content");
      await driver.restore("vm-a", "booted");
      const restored = await blockOf(driver, "vm-a");
      assert.equal(await hasPattern(restored, "0x44 2M 64k"), false, "restore kept a write made after the snapshot");
      assert.equal(await hasPattern(restored, "0x22 1M 64k"), true);
      await driver.destroyWorkspace("vm-b");
      await driver.destroyWorkspace("vm-a");
      await driver.deleteBase("disk");
    });

    test("a rootfs directory imports as an ext4 block base for VMs", async (t) => {
      const driver = getDriver();
      if (!driver.capabilities.blockVolumes) return t.skip(`${driver.kind} cannot hand out block volumes here`);
      await driver.importBase("disk-fs", { kind: "rootfs-dir", path: join(getScratch(), "rootfs") }, { layout: "block" });
      await driver.createWorkspace("vm-fs", { base: "disk-fs" });
      const handle = await blockOf(driver, "vm-fs");
      if (handle.format === "raw") {
        const { stdout } = await runCommand(["debugfs", "-R", "cat /etc/hostname", handle.path]);
        assert.equal(stdout, "base\n");
      } else {
        await runCommand(["qemu-img", "check", "-f", handle.format === "device" ? "raw" : handle.format, handle.path]);
      }
      await driver.destroyWorkspace("vm-fs");
      await driver.deleteBase("disk-fs");
    });
  });
}

type BlockHandle = Extract<RootfsHandle, { kind: "block" }>;

async function blockOf(driver: StorageDriver, workspace: string): Promise<BlockHandle> {
  const handle = await driver.rootfs(workspace);
  assert.equal(handle.kind, "block");
  return handle as BlockHandle;
}

async function writeRawImage(path: string, sizeBytes: number): Promise<void> {
  const file = await open(path, "w");
  try {
    await file.truncate(sizeBytes);
    await file.write(Buffer.alloc(64 * 1024, 0x11), 0, 64 * 1024, 0);
  } finally {
    await file.close();
  }
}

async function qemuIo(handle: BlockHandle, command: string): Promise<void> {
  const format = handle.format === "device" ? "raw" : handle.format;
  await runCommand(["qemu-io", "-f", format, "-c", command, handle.path]);
}

// qemu-io exits 1 and says "Pattern verification failed" when the bytes differ.
async function hasPattern(handle: BlockHandle, spec: string): Promise<boolean> {
  const format = handle.format === "device" ? "raw" : handle.format;
  const result = await runCommand(["qemu-io", "-f", format, "-c", `read -P ${spec}`, handle.path], { check: false });
  if (result.exitCode === 0) return true;
  if (`${result.stdout}${result.stderr}`.includes("Pattern verification failed")) return false;
  throw new Error(`qemu-io read failed: ${result.stderr}`);
}
