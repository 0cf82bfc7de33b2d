// Materialising an image for a user-namespaced container: every inode's uid/gid + offset,
// setuid/setgid kept, hardlinks shifted once, symlinks themselves (not their targets).
import { describe, test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { chmod, chown, lchown, link, lstat, mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { materializeRootfs, shiftOwnership } from "../../src/images/rootfs-shift.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { isRoot, requires } from "../support/prereq.js";

const SHIFT = 100000;

describe("rootfs shift", { skip: requires(isRoot()) }, () => {
  let dir: string;
  let source: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "agentiso-shift-test-"));
    source = join(dir, "source");
    await mkdir(join(source, "usr/bin"), { recursive: true });
    await mkdir(join(source, "home/user"), { recursive: true });
    await writeFile(join(source, "usr/bin/su"), "setuid binary");
    await chmod(join(source, "usr/bin/su"), 0o4755);
    await writeFile(join(source, "usr/bin/wall"), "setgid binary");
    await chown(join(source, "usr/bin/wall"), 0, 5);
    await chmod(join(source, "usr/bin/wall"), 0o2755);
    await writeFile(join(source, "usr/bin/gzip"), "one inode, two names");
    await link(join(source, "usr/bin/gzip"), join(source, "usr/bin/gunzip"));
    await writeFile(join(source, "home/user/notes"), "owned by 1000");
    await chown(join(source, "home/user/notes"), 1000, 1000);
    await chown(join(source, "home/user"), 1000, 1000);
    await symlink("../usr/bin/su", join(source, "home/su-link"));
    await symlink("/nowhere", join(source, "home/dangling"));
    await lchown(join(source, "home/dangling"), 1000, 1000);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("every inode's uid and gid move up by the offset, each inode once", async () => {
    const target = join(dir, "shifted");
    const { inodes } = await materializeRootfs(source, target, { idShift: SHIFT });
    // root dir, usr, usr/bin, su, wall, gzip(=gunzip), home, home/user, notes, su-link, dangling
    assert.equal(inodes, 11);
    const owner = async (path: string) => {
      const st = await lstat(join(target, path));
      return [st.uid, st.gid];
    };
    assert.deepEqual(await owner("."), [SHIFT, SHIFT]);
    assert.deepEqual(await owner("usr/bin/su"), [SHIFT, SHIFT]);
    assert.deepEqual(await owner("usr/bin/wall"), [SHIFT, SHIFT + 5]);
    assert.deepEqual(await owner("usr/bin/gzip"), [SHIFT, SHIFT]);
    assert.deepEqual(await owner("usr/bin/gunzip"), [SHIFT, SHIFT]);
    assert.deepEqual(await owner("home/user"), [SHIFT + 1000, SHIFT + 1000]);
    assert.deepEqual(await owner("home/user/notes"), [SHIFT + 1000, SHIFT + 1000]);
    assert.deepEqual(await owner("home/dangling"), [SHIFT + 1000, SHIFT + 1000]);
    assert.deepEqual(await owner("home/su-link"), [SHIFT, SHIFT]);
  });

  test("setuid and setgid bits survive the chown", async () => {
    const target = join(dir, "shifted");
    await materializeRootfs(source, target, { idShift: SHIFT });
    assert.equal((await stat(join(target, "usr/bin/su"))).mode & 0o7777, 0o4755);
    assert.equal((await stat(join(target, "usr/bin/wall"))).mode & 0o7777, 0o2755);
  });

  test("hardlinks stay one inode and symlinks keep their targets", async () => {
    const target = join(dir, "shifted");
    await materializeRootfs(source, target, { idShift: SHIFT });
    const gzip = await stat(join(target, "usr/bin/gzip"));
    const gunzip = await stat(join(target, "usr/bin/gunzip"));
    assert.equal(gzip.ino, gunzip.ino);
    assert.equal(gzip.nlink, 2);
    assert.ok((await lstat(join(target, "home/su-link"))).isSymbolicLink());
    assert.ok((await lstat(join(target, "home/dangling"))).isSymbolicLink());
  });

  test("the source image is left as it was", async () => {
    await materializeRootfs(source, join(dir, "shifted"), { idShift: SHIFT });
    const su = await stat(join(source, "usr/bin/su"));
    assert.deepEqual([su.uid, su.gid, su.mode & 0o7777], [0, 0, 0o4755]);
    const notes = await stat(join(source, "home/user/notes"));
    assert.deepEqual([notes.uid, notes.gid], [1000, 1000]);
  });

  test("without a shift the copy keeps the original owners", async () => {
    const target = join(dir, "plain");
    await materializeRootfs(source, target);
    const notes = await stat(join(target, "home/user/notes"));
    assert.deepEqual([notes.uid, notes.gid], [1000, 1000]);
    assert.equal((await stat(join(target, "usr/bin/su"))).mode & 0o7777, 0o4755);
  });

  test("materialising into a non-empty directory is refused", async () => {
    const target = join(dir, "busy");
    await mkdir(target);
    await writeFile(join(target, "something"), "x");
    await assert.rejects(materializeRootfs(source, target, { idShift: SHIFT }), (err) => isAgentisoError(err, "CONFLICT"));
  });

  test("a shift that is negative or not an integer is INVALID_INPUT", async () => {
    await assert.rejects(shiftOwnership(source, -1), (err) => isAgentisoError(err, "INVALID_INPUT"));
    await assert.rejects(shiftOwnership(source, 1.5), (err) => isAgentisoError(err, "INVALID_INPUT"));
  });
});
