// The bookkeeping every storage driver shares (CatalogStorage), over an in-memory backend:
// validation, lineage, and the CONFLICT refusals, without root or a real pool.
import { describe, test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError, type ErrorCode } from "../../src/core/errors.js";
import { MemoryStorage } from "../support/storage-memory.js";

const failsWith = (code: ErrorCode, text?: string) => (e: unknown) => isAgentisoError(e, code) && (text === undefined || e.message.includes(text));

describe("storage catalog logic", () => {
  let dir: string;
  let driver: MemoryStorage;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ais-catalog-unit-"));
    driver = new MemoryStorage(join(dir, "catalog"));
    await driver.setup();
    await driver.importBase("base", { kind: "rootfs-dir", path: dir });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("every operation before setup says to run agentiso init", async () => {
    const fresh = new MemoryStorage(join(dir, "other"));
    await assert.rejects(fresh.listWorkspaces(), failsWith("INVALID_STATE", "agentiso init"));
  });

  test("names with traversal, option prefixes, uppercase or over 63 characters are INVALID_INPUT", async () => {
    for (const bad of ["../x", "-o", "", "a".repeat(64), "a/b", "A", "x..y"]) {
      await assert.rejects(driver.createWorkspace(bad, { base: "base" }), failsWith("INVALID_INPUT"));
      await assert.rejects(driver.snapshot("ws", bad), failsWith("INVALID_INPUT"));
    }
    assert.deepEqual([...driver.volumes], ["base:base"]);
  });

  test("a missing image source is NOT_FOUND and creates nothing", async () => {
    await assert.rejects(driver.importBase("nope", { kind: "tarball", path: join(dir, "missing.tar") }), failsWith("NOT_FOUND", "missing.tar"));
    assert.deepEqual((await driver.listBases()).map((b) => b.name), ["base"]);
  });

  test("a fork records its origin, base and snapshot, and is listed as the snapshot's dependent", async () => {
    await driver.createWorkspace("a", { base: "base" });
    await driver.snapshot("a", "s");
    const fork = await driver.forkWorkspace("b", { from: "a", snapshot: "s" });
    assert.deepEqual(fork, { name: "b", layout: "directory", base: "base", forkedFrom: { workspace: "a", snapshot: "s" } });
    const reopened = new MemoryStorage(join(dir, "catalog"));
    await reopened.setup();
    assert.deepEqual((await reopened.listSnapshots("a")).map((s) => s.dependents), [["b"]]);
  });

  test("names already taken are CONFLICT and unknown ones NOT_FOUND", async () => {
    await driver.createWorkspace("a", { base: "base" });
    await assert.rejects(driver.createWorkspace("a", { base: "base" }), failsWith("CONFLICT"));
    await assert.rejects(driver.createWorkspace("b", { base: "nobase" }), failsWith("NOT_FOUND", "nobase"));
    await assert.rejects(driver.forkWorkspace("c", { from: "a", snapshot: "none" }), failsWith("NOT_FOUND", "none"));
    await assert.rejects(driver.destroyWorkspace("zzz"), failsWith("NOT_FOUND"));
  });

  test("where restore drops later snapshots (zfs), it refuses while one of them has forks", async () => {
    driver = new MemoryStorage(join(dir, "zfs-like"), { restoreKeepsLaterSnapshots: false });
    await driver.setup();
    await driver.importBase("base", { kind: "rootfs-dir", path: dir });
    await driver.createWorkspace("a", { base: "base" });
    for (const s of ["s1", "s2", "s3"]) await driver.snapshot("a", s);
    await driver.forkWorkspace("f", { from: "a", snapshot: "s3" });
    await assert.rejects(driver.restore("a", "s1"), failsWith("CONFLICT", "f"));
    await driver.restore("a", "s3");
    await driver.destroyWorkspace("f");
    await driver.restore("a", "s1");
    assert.deepEqual((await driver.listSnapshots("a")).map((s) => s.name), ["s1"]);
  });

  test("quotas are refused as UNSUPPORTED before anything is created where the driver has none", async () => {
    driver = new MemoryStorage(join(dir, "no-quota"), { quotas: false });
    await driver.setup();
    await driver.importBase("base", { kind: "rootfs-dir", path: dir });
    await assert.rejects(driver.createWorkspace("q", { base: "base", quotaBytes: 1024 }), failsWith("UNSUPPORTED"));
    assert.deepEqual(await driver.listWorkspaces(), []);
    assert.equal(driver.volumes.has("ws:q"), false);
  });

  test("quota sizes must be positive whole bytes", async () => {
    await driver.createWorkspace("a", { base: "base" });
    for (const bad of [0, -1, 1.5, Number.NaN]) await assert.rejects(driver.setQuota("a", bad), failsWith("INVALID_INPUT"));
    await driver.setQuota("a", 4096);
    assert.deepEqual(await driver.usage("a"), { usedBytes: 0, quotaBytes: 4096 });
    await driver.setQuota("a", undefined);
    assert.deepEqual(await driver.usage("a"), { usedBytes: 0 });
  });
});
