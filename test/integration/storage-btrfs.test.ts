// The storage contract against btrfs on a real loop-file pool created under a fresh state dir.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { BtrfsStorage } from "../../src/storage/btrfs-storage.js";
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
