// The one contract every StorageDriver passes: `describeStorageDriver(name, make)` is called by
// one integration test file per driver (btrfs on a real loop-file pool, overlay, zfs-fuse).
// Each fixture must clean up after itself; the suite asserts nothing leaked.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, writeFile, readFile, rm, symlink, chmod, access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { runCommand } from "../../src/core/run-command.js";
import type { StorageDriver } from "../../src/storage/storage-driver.js";
import { describeBlockVolumes } from "./storage-contract-block.js";
import { destroyAllWorkspaces, directoryOf, readTree, writeWorkspaceFile } from "./storage-helpers.js";

export interface StorageFixture {
  driver: StorageDriver;
  /** Host resources of this fixture still present (mounts, loops, datasets); [] when clean. */
  leaks(): Promise<string[]>;
  /** Releases everything the fixture created (after the suite destroyed its volumes). */
  teardown(): Promise<void>;
}

export interface ContractOptions {
  /** A skip reason for the whole suite (prerequisite missing), or false. */
  skip: string | false;
  /** A skip reason for the block-volume tests when the platform cannot do them. */
  blockSkip?: string;
}

const BAD_NAMES = ["../x", "-o", "", "a".repeat(64), "x/y", "A b"];

// Registers the storage contract tests for one driver.
export function describeStorageDriver(name: string, make: () => Promise<StorageFixture>, options: ContractOptions): void {
  describe(`${name} storage driver contract`, { skip: options.skip }, () => {
    let fixture: StorageFixture;
    let driver: StorageDriver;
    let scratch: string;

    before(async () => {
      scratch = await mkdtemp(join(tmpdir(), "ais-storage-src-"));
      await writeRootfs(join(scratch, "rootfs"));
      fixture = await make();
      driver = fixture.driver;
      await driver.setup();
      await driver.importBase("base", { kind: "rootfs-dir", path: join(scratch, "rootfs") });
    });

    after(async () => {
      try {
        if (driver) {
          await destroyAllWorkspaces(driver);
          for (const base of await driver.listBases()) await driver.deleteBase(base.name);
        }
      } finally {
        await fixture?.teardown();
        await rm(scratch, { recursive: true, force: true });
      }
      assert.deepEqual(await fixture.leaks(), [], "the suite left host resources behind");
    });

    test("names that could traverse paths or inject options are refused with INVALID_INPUT", async () => {
      for (const bad of BAD_NAMES) {
        await assert.rejects(driver.createWorkspace(bad, { base: "base" }), isInvalid, `workspace ${JSON.stringify(bad)}`);
        await assert.rejects(driver.importBase(bad, { kind: "rootfs-dir", path: join(scratch, "rootfs") }), isInvalid);
        await assert.rejects(driver.snapshot(bad, "s"), isInvalid);
        await assert.rejects(driver.forkWorkspace("ok", { from: "base", snapshot: bad }), isInvalid);
      }
      assert.deepEqual(await driver.listWorkspaces(), []);
    });

    test("a workspace cloned from a base sees the base and its writes stay its own", async () => {
      await driver.createWorkspace("plain-a", { base: "base" });
      await driver.createWorkspace("plain-b", { base: "base" });
      const a = await directoryOf(driver, "plain-a");
      assert.equal(await readFile(join(a, "etc/hostname"), "utf8"), "base\n");
      await writeFile(join(a, "etc/hostname"), "changed\n");
      assert.equal(await readFile(join(await directoryOf(driver, "plain-b"), "etc/hostname"), "utf8"), "base\n");
      await driver.destroyWorkspace("plain-a");
      await driver.destroyWorkspace("plain-b");
      assert.deepEqual(await driver.listWorkspaces(), []);
    });

    test("tarballs (.tar, .tar.gz, .tar.zst) import as bases with their content and modes", async () => {
      for (const [file, flags] of [["r.tar", []], ["r.tar.gz", ["-z"]], ["r.tar.zst", ["--zstd"]]] as const) {
        await runCommand(["tar", ...flags, "-cf", join(scratch, file), "-C", join(scratch, "rootfs"), "."]);
        const baseName = `tar-${file.replace(/\./g, "-")}`;
        await driver.importBase(baseName, { kind: "tarball", path: join(scratch, file) });
        await driver.createWorkspace(`from-${baseName}`, { base: baseName });
        const tree = await readTree(await directoryOf(driver, `from-${baseName}`));
        assert.deepEqual(tree, await readTree(join(scratch, "rootfs")), file);
        await driver.destroyWorkspace(`from-${baseName}`);
        await driver.deleteBase(baseName);
      }
    });

    test("a write in a fork never shows in its origin or its siblings", async () => {
      await driver.createWorkspace("origin", { base: "base" });
      await writeWorkspaceFile(driver, "origin", "shared.txt", "golden");
      await driver.snapshot("origin", "golden");
      await driver.forkWorkspace("fork-a", { from: "origin", snapshot: "golden" });
      await driver.forkWorkspace("fork-b", { from: "origin", snapshot: "golden" });
      await writeWorkspaceFile(driver, "fork-a", "shared.txt", "fork-a");
      await writeWorkspaceFile(driver, "fork-a", "only-a.txt", "a");
      await writeWorkspaceFile(driver, "origin", "after.txt", "origin-later");
      const [origin, a, b] = await Promise.all(["origin", "fork-a", "fork-b"].map((w) => directoryOf(driver, w)));
      assert.equal(await readFile(join(origin!, "shared.txt"), "utf8"), "golden");
      assert.equal(await readFile(join(b!, "shared.txt"), "utf8"), "golden");
      assert.equal(await readFile(join(a!, "shared.txt"), "utf8"), "fork-a");
      assert.equal(await exists(join(origin!, "only-a.txt")), false);
      assert.equal(await exists(join(b!, "only-a.txt")), false);
      assert.equal(await exists(join(a!, "after.txt")), false, "a write to the origin after the snapshot leaked into the fork");
      await destroyAllWorkspaces(driver);
    });

    test("a fork of a fork sees its whole lineage, deletions included", async () => {
      await driver.createWorkspace("gen0", { base: "base" });
      await writeWorkspaceFile(driver, "gen0", "gen0.txt", "0");
      await driver.snapshot("gen0", "s");
      await driver.forkWorkspace("gen1", { from: "gen0", snapshot: "s" });
      const gen1 = await directoryOf(driver, "gen1");
      await rm(join(gen1, "etc/hostname"));
      await rm(join(gen1, "bin"), { recursive: true });
      await mkdir(join(gen1, "bin"));
      await writeFile(join(gen1, "bin/new"), "1");
      await driver.snapshot("gen1", "s");
      await driver.forkWorkspace("gen2", { from: "gen1", snapshot: "s" });
      const tree = await readTree(await directoryOf(driver, "gen2"));
      assert.deepEqual(Object.keys(tree).sort(), ["bin", "bin/new", "etc", "gen0.txt"]);
      assert.equal((await driver.listWorkspaces()).find((w) => w.name === "gen2")?.base, "base");
      await destroyAllWorkspaces(driver);
    });

    test("restore brings back exactly the snapshot's content", async () => {
      await driver.createWorkspace("restorable", { base: "base" });
      const dir = await directoryOf(driver, "restorable");
      await writeFile(join(dir, "a.txt"), "one");
      await driver.snapshot("restorable", "s1");
      const atSnapshot = await readTree(dir);
      await writeFile(join(dir, "a.txt"), "two");
      await writeFile(join(dir, "b.txt"), "new");
      await rm(join(dir, "etc/hostname"));
      await driver.snapshot("restorable", "s2");
      await writeFile(join(dir, "c.txt"), "after s2");
      await driver.restore("restorable", "s1");
      assert.deepEqual(await readTree(await directoryOf(driver, "restorable")), atSnapshot);
      const names = (await driver.listSnapshots("restorable")).map((s) => s.name);
      assert.deepEqual(names, driver.capabilities.restoreKeepsLaterSnapshots ? ["s1", "s2"] : ["s1"]);
      await writeFile(join(await directoryOf(driver, "restorable"), "d.txt"), "writable after restore");
      await driver.destroyWorkspace("restorable");
    });

    test("lineage is recorded on disk and survives closing and re-opening the driver", async () => {
      await driver.createWorkspace("parent", { base: "base" });
      await writeWorkspaceFile(driver, "parent", "p.txt", "parent");
      await driver.snapshot("parent", "golden");
      await driver.forkWorkspace("child", { from: "parent", snapshot: "golden" });
      await driver.close();
      await driver.setup();
      const child = (await driver.listWorkspaces()).find((w) => w.name === "child");
      assert.deepEqual(child?.forkedFrom, { workspace: "parent", snapshot: "golden" });
      assert.equal(child?.base, "base");
      const [golden] = await driver.listSnapshots("parent");
      assert.deepEqual(golden?.dependents, ["child"]);
      assert.equal(await readFile(join(await directoryOf(driver, "child"), "p.txt"), "utf8"), "parent");
      await destroyAllWorkspaces(driver);
    });

    test("20 forks made in parallel all succeed and stay isolated", async () => {
      await driver.createWorkspace("golden", { base: "base" });
      await writeWorkspaceFile(driver, "golden", "id.txt", "golden");
      await driver.snapshot("golden", "ready");
      const names = Array.from({ length: 20 }, (_, i) => `worker-${i}`);
      await Promise.all(names.map((n) => driver.forkWorkspace(n, { from: "golden", snapshot: "ready" })));
      await Promise.all(names.map((n) => writeWorkspaceFile(driver, n, "id.txt", n)));
      for (const n of names) assert.equal(await readFile(join(await directoryOf(driver, n), "id.txt"), "utf8"), n);
      assert.deepEqual((await driver.listSnapshots("golden"))[0]?.dependents.sort(), [...names].sort());
      await Promise.all(names.map((n) => driver.destroyWorkspace(n)));
      await driver.destroyWorkspace("golden");
    });

    test("destroying what others depend on is refused with CONFLICT naming the dependents", async () => {
      await driver.createWorkspace("src", { base: "base" });
      await driver.snapshot("src", "snap");
      await driver.forkWorkspace("dependent", { from: "src", snapshot: "snap" });
      await assert.rejects(driver.deleteSnapshot("src", "snap"), conflictNaming("dependent"));
      await assert.rejects(driver.destroyWorkspace("src"), conflictNaming("dependent"));
      await assert.rejects(driver.deleteBase("base"), conflictNaming("src"));
      await driver.destroyWorkspace("dependent");
      await driver.deleteSnapshot("src", "snap");
      assert.deepEqual(await driver.listSnapshots("src"), []);
      await driver.destroyWorkspace("src");
    });

    test("exceeding the quota fails the write clearly and leaves the workspace usable", async (t) => {
      if (!driver.capabilities.quotas) {
        await assert.rejects(driver.createWorkspace("limited", { base: "base", quotaBytes: 1 << 20 }), (e: unknown) => isAgentisoError(e, "UNSUPPORTED"));
        t.skip(`${name} has no quotas: setQuota answers UNSUPPORTED`);
        return;
      }
      const quotaBytes = 16 * 1024 * 1024;
      await driver.createWorkspace("limited", { base: "base", quotaBytes });
      const dir = await directoryOf(driver, "limited");
      await assert.rejects(writeFile(join(dir, "big"), Buffer.alloc(4 * quotaBytes, 7)), isOutOfSpace);
      await rm(join(dir, "big"));
      await writeFile(join(dir, "small.txt"), "still usable");
      assert.equal(await readFile(join(dir, "small.txt"), "utf8"), "still usable");
      const usage = await driver.usage("limited");
      assert.equal(usage.quotaBytes, quotaBytes);
      assert.ok(usage.usedBytes < quotaBytes, `usage ${usage.usedBytes} after deleting the big file`);
      // the dashboard's one read of the whole pool knows it too (the same count, as of the last commit)
      const all = await driver.usageOfAll();
      assert.equal(typeof all.get("limited"), "number", `usageOfAll: ${JSON.stringify([...all])}`);
      await driver.destroyWorkspace("limited");
    });

    test("a workspace's snapshots count against its quota: write, snapshot, delete, write again stops at the limit", async (t) => {
      if (!driver.capabilities.quotas || !driver.capabilities.quotaCoversSnapshots) {
        t.skip(`${name} here limits the live volume only (no quotas, or a btrfs pool without simple quotas)`);
        return;
      }
      const quotaBytes = 16 * 1024 * 1024;
      const chunk = Buffer.alloc(10 * 1024 * 1024, 9);
      await driver.createWorkspace("hoarder", { base: "base", quotaBytes });
      const dir = await directoryOf(driver, "hoarder");
      await writeFile(join(dir, "first"), chunk);
      await driver.snapshot("hoarder", "keep");
      await rm(join(dir, "first"));
      // the snapshot still holds the first 10 MiB: 10 more do not fit in 16
      await assert.rejects(writeFile(join(dir, "second"), chunk), isOutOfSpace);
      await rm(join(dir, "second"), { force: true });
      assert.ok((await driver.usage("hoarder")).usedBytes >= chunk.length, "the snapshot's bytes are charged to the workspace");
      // deleting the snapshot gives the space back (btrfs frees it once its cleaner has dropped the snapshot)
      await driver.deleteSnapshot("hoarder", "keep");
      const deadline = Date.now() + 30_000;
      while ((await driver.usage("hoarder")).usedBytes >= chunk.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await writeFile(join(dir, "second"), chunk);
      await driver.destroyWorkspace("hoarder");
    });

    test("the snapshot list names each snapshot once, oldest first, and a deleted one is gone", async () => {
      await driver.createWorkspace("snappy", { base: "base" });
      for (const s of ["one", "two", "three"]) await driver.snapshot("snappy", s);
      await assert.rejects(driver.snapshot("snappy", "two"), (e: unknown) => isAgentisoError(e, "CONFLICT"));
      assert.deepEqual((await driver.listSnapshots("snappy")).map((s) => s.name), ["one", "two", "three"]);
      await driver.deleteSnapshot("snappy", "two");
      assert.deepEqual((await driver.listSnapshots("snappy")).map((s) => s.name), ["one", "three"]);
      await assert.rejects(driver.restore("snappy", "two"), (e: unknown) => isAgentisoError(e, "NOT_FOUND"));
      await driver.destroyWorkspace("snappy");
    });

    describeBlockVolumes(() => driver, () => scratch, options.blockSkip);
  });
}

// libuv has no name for EDQUOT (errno 122 on Linux): Node reports "Unknown system error -122".
function isOutOfSpace(e: NodeJS.ErrnoException): boolean {
  return e.code === "EDQUOT" || e.code === "ENOSPC" || e.errno === -122 || e.errno === -28;
}

function isInvalid(e: unknown): boolean {
  return isAgentisoError(e, "INVALID_INPUT");
}

function conflictNaming(dependent: string): (e: unknown) => boolean {
  return (e) => isAgentisoError(e, "CONFLICT") && e.message.includes(dependent);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

async function writeRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, "etc"), { recursive: true });
  await mkdir(join(dir, "bin"), { recursive: true });
  await writeFile(join(dir, "etc/hostname"), "base\n");
  await writeFile(join(dir, "bin/hello"), "#!/bin/sh\necho hello\n");
  await chmod(join(dir, "bin/hello"), 0o755);
  await symlink("hello", join(dir, "bin/hi"));
}
