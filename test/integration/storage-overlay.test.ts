// The storage contract against overlayfs, with its root on the host filesystem (ext4 here).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { OverlayStorage } from "../../src/storage/overlay-storage.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { describeStorageDriver } from "../support/storage-contract.js";
import { mountsMatching } from "../support/storage-leaks.js";

describeStorageDriver(
  "overlay",
  async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "ais-overlay-test-"));
    const tag = resourceTagFor(stateDir);
    const driver = new OverlayStorage({ rootDir: join(stateDir, "overlay"), tag, logger: silentLogger });
    return {
      driver,
      leaks: () => Promise.resolve(mountsMatching(stateDir, tag.prefix)),
      teardown: async () => {
        try {
          await driver.close();
        } finally {
          await rm(stateDir, { recursive: true, force: true });
        }
      },
    };
  },
  { skip: requires(hasCommand("qemu-img"), hasCommand("qemu-io"), isRoot()) },
);
