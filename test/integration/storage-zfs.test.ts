// The storage contract against zfs. Without kernel ZFS (these machines) it runs on zfs-fuse,
// started here if no daemon answers, with a throwaway pool on a sparse file; zvols do not
// exist on zfs-fuse, so the block-volume tests skip with that reason.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { ZfsStorage } from "../../src/storage/zfs-storage.js";
import { hasCommand, isRoot, requires, unsupported } from "../support/prereq.js";
import { describeStorageDriver } from "../support/storage-contract.js";
import { mountsMatching, zfsDatasetsMatching } from "../support/storage-leaks.js";
import { createTestPool, ensureZfsFuse } from "../support/storage-zfs-fuse.js";

const kernelZfs = existsSync("/sys/module/zfs");
const needs = kernelZfs ? [hasCommand("zfs"), isRoot()] : [hasCommand("zfs-fuse"), hasCommand("zpool"), hasPath("/dev/fuse"), isRoot()];

describeStorageDriver(
  "zfs",
  async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "ais-zfs-test-"));
    const daemon = kernelZfs ? undefined : await ensureZfsFuse(stateDir);
    const pool = await createTestPool(stateDir);
    const driver = new ZfsStorage({ pool: pool.name, tag: resourceTagFor(stateDir), logger: silentLogger, zvols: kernelZfs, minFreeBytes: 16 * 1024 * 1024 });
    return {
      driver,
      leaks: () => Promise.resolve([...zfsDatasetsMatching(pool.name), ...mountsMatching(stateDir)]),
      teardown: async () => {
        try {
          await driver.close();
          await pool.destroy();
        } finally {
          await daemon?.stop();
          await rm(stateDir, { recursive: true, force: true });
        }
      },
    };
  },
  {
    skip: requires(...needs),
    ...(kernelZfs ? {} : { blockSkip: unsupported("zfs-fuse has no zvols (`zfs create -V` aborts: Function not implemented)") }),
  },
);

function hasPath(path: string): [boolean, string] {
  return [existsSync(path), `${path} (FUSE)`];
}
