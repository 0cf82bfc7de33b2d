// Concurrent btrfs snapshots share one `sh` and one transaction commit (btrfs-snapshot-batch.ts):
// each caller still gets its own result, a failing request fails alone, on a real loop-file pool.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { createSubvolume, deleteSubvolumes, snapshotSubvolume } from "../../src/storage/btrfs-cli.js";
import { parseOutcomes } from "../../src/storage/btrfs-snapshot-batch.js";
import { BtrfsLoopPool } from "../../src/storage/pool.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { loopDevicesUnder, mountsMatching } from "../support/storage-leaks.js";

describe("batched btrfs snapshots", { skip: requires(hasCommand("mkfs.btrfs"), isRoot()) }, () => {
  let stateDir: string;
  let pool: BtrfsLoopPool;
  let mnt: string;
  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "ais-btrfs-batch-"));
    pool = new BtrfsLoopPool({ stateDir, tag: resourceTagFor(stateDir), logger: silentLogger, sizeBytes: 2 * 1024 ** 3 });
    mnt = (await pool.setup()).mountPoint;
    await createSubvolume(join(mnt, "origin"));
    await writeFile(join(mnt, "origin", "file"), "from origin");
  });
  after(async () => {
    await pool.detach();
    await rm(stateDir, { recursive: true, force: true });
    assert.deepEqual([...mountsMatching(stateDir), ...loopDevicesUnder(stateDir)], []);
  });

  test("twenty concurrent snapshots all exist afterwards with the origin's files, and read-only ones refuse writes", async () => {
    const targets = Array.from({ length: 20 }, (_, i) => join(mnt, `fork-${i}`));
    await Promise.all(targets.map((target, i) => snapshotSubvolume(join(mnt, "origin"), target, { readOnly: i % 2 === 1 })));
    for (const [i, target] of targets.entries()) {
      assert.equal(await readFile(join(target, "file"), "utf8"), "from origin");
      const write = writeFile(join(target, "new"), "x");
      if (i % 2 === 1) await assert.rejects(write, /EROFS|read-only/i);
      else await write;
    }
    await deleteSubvolumes(targets);
  });

  test("a failing snapshot among concurrent ones fails alone with btrfs's message", async () => {
    const good = [join(mnt, "ok-1"), join(mnt, "ok-2")];
    const results = await Promise.allSettled([
      snapshotSubvolume(join(mnt, "origin"), good[0]!, { readOnly: false }),
      snapshotSubvolume(join(mnt, "no-such-origin"), join(mnt, "never"), { readOnly: false }),
      snapshotSubvolume(join(mnt, "origin"), good[1]!, { readOnly: false }),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    const failure = (results[1] as PromiseRejectedResult).reason as Error;
    assert.ok(isAgentisoError(failure, "BACKEND_FAILED"), String(failure));
    assert.match(failure.message, /no-such-origin.*exit \d+: .+/);
    await deleteSubvolumes(good);
  });

  test("relative paths are refused before anything runs", async () => {
    await assert.rejects(snapshotSubvolume("origin", join(mnt, "x"), { readOnly: false }), (err) => isAgentisoError(err, "INTERNAL"));
  });
});

describe("batched snapshot output", () => {
  test("each line maps a request index to success or its error, and stray lines are ignored", () => {
    const outcomes = parseOutcomes("1 0 \n0 1 ERROR: cannot snapshot '/x': No such file or directory \nnoise\n2 0\n");
    assert.deepEqual([...outcomes.entries()].sort(), [
      [0, "exit 1: ERROR: cannot snapshot '/x': No such file or directory"],
      [1, ""],
      [2, ""],
    ]);
  });
});
