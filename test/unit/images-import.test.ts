// `image import FILE --name N`: any rootfs tarball, made here with the real tar (Alpine's
// minirootfs cannot be downloaded on these machines, so the test makes a look-alike).
import { describe, test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageLibrary } from "../../src/images/image-library.js";
import { runCommand } from "../../src/core/run-command.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

describe("image import", () => {
  let dir: string;
  let tree: string;
  let lib: ImageLibrary;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "agentiso-import-test-"));
    tree = join(dir, "tree");
    await mkdir(join(tree, "etc"), { recursive: true });
    await mkdir(join(tree, "bin"));
    await writeFile(join(tree, "etc/os-release"), 'NAME="Alpine Linux"\nPRETTY_NAME="Alpine Linux v3.20"\n');
    await writeFile(join(tree, "bin/busybox"), "#!/bin/sh\necho fake\n", { mode: 0o755 });
    await symlink("/bin/busybox", join(tree, "bin/sh"));
    lib = new ImageLibrary({ cacheDir: join(dir, "cache"), recipesDir: join(dir, "no-recipes") });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const formats: Array<[string, string[]]> = [
    ["alpine.tar", []],
    ["alpine.tar.gz", ["-z"]],
    ["alpine.tar.zst", ["--zstd"]],
  ];
  for (const [file, flags] of formats) {
    test(`a ${file.slice("alpine".length)} rootfs tarball imports as an image with its files, links and modes`, { skip: requires(hasCommand("zstd")) }, async () => {
      const tarball = join(dir, file);
      await runCommand(["tar", ...flags, "-c", "-f", tarball, "-C", tree, "."]);
      const image = await lib.import(tarball, "alpine");
      assert.equal(image.manifest.source.kind, "import");
      assert.deepEqual(image.manifest.source, { kind: "import", file });
      assert.equal(image.manifest.osRelease, "Alpine Linux v3.20");
      assert.deepEqual(image.manifest.packages, {});
      assert.equal(image.manifest.nodeVersion, null);
      assert.match(image.manifest.hash, /^[0-9a-f]{64}$/);
      assert.equal(await readFile(join(image.rootfsDir, "bin/busybox"), "utf8"), "#!/bin/sh\necho fake\n");
      assert.equal((await lstat(join(image.rootfsDir, "bin/busybox"))).mode & 0o777, 0o755);
      assert.ok((await lstat(join(image.rootfsDir, "bin/sh"))).isSymbolicLink());
      assert.deepEqual((await lib.list()).map((i) => i.name), ["alpine"]);
    });
  }

  test("importing over an existing image is a CONFLICT unless replace is asked", async () => {
    const tarball = join(dir, "a.tar");
    await runCommand(["tar", "-c", "-f", tarball, "-C", tree, "."]);
    await lib.import(tarball, "alpine");
    await assert.rejects(lib.import(tarball, "alpine"), (err) => isAgentisoError(err, "CONFLICT"));
    await writeFile(join(tree, "new-file"), "x");
    await runCommand(["tar", "-c", "-f", tarball, "-C", tree, "."]);
    const replaced = await lib.import(tarball, "alpine", { replace: true });
    assert.equal(await readFile(join(replaced.rootfsDir, "new-file"), "utf8"), "x");
  });

  test("a file that is not a tarball is INVALID_INPUT and leaves nothing behind", async () => {
    const junk = join(dir, "junk.tar.gz");
    await writeFile(junk, "this is not a tarball");
    await assert.rejects(lib.import(junk, "junk"), (err) => isAgentisoError(err, "INVALID_INPUT"));
    assert.deepEqual(await lib.list(), []);
    assert.deepEqual(await readdir(join(dir, "cache", ".tmp")), []);
  });

  test("an exported image imports again with the same files", { skip: requires(hasCommand("zstd")) }, async () => {
    const tarball = join(dir, "a.tar");
    await runCommand(["tar", "-c", "-f", tarball, "-C", tree, "."]);
    await lib.import(tarball, "original");
    const exported = join(dir, "exported.tar.zst");
    await lib.export("original", exported);
    const copy = await lib.import(exported, "copy");
    assert.equal(await readFile(join(copy.rootfsDir, "bin/busybox"), "utf8"), "#!/bin/sh\necho fake\n");
    assert.equal(copy.manifest.osRelease, "Alpine Linux v3.20");
  });

  test("a missing tarball is NOT_FOUND", async () => {
    await assert.rejects(lib.import(join(dir, "absent.tar"), "x"), (err) => isAgentisoError(err, "NOT_FOUND"));
  });

  test("an os-release symlink pointing out of the rootfs is not followed to the host's file", async () => {
    await rm(join(tree, "etc/os-release"));
    await symlink("/etc/os-release", join(tree, "etc/os-release"));
    const tarball = join(dir, "escape.tar");
    await runCommand(["tar", "-c", "-f", tarball, "-C", tree, "."]);
    const image = await lib.import(tarball, "escape");
    assert.equal(image.manifest.osRelease, null);
  });

  test("device nodes in a tarball are left out of the image", { skip: requires(isRoot()) }, async () => {
    await mkdir(join(tree, "dev"));
    await runCommand(["mknod", join(tree, "dev/null"), "c", "1", "3"]);
    await mkdir(join(tree, "usr/lib/dev"), { recursive: true });
    await writeFile(join(tree, "usr/lib/dev/keep"), "kept");
    const tarball = join(dir, "dev.tar");
    await runCommand(["tar", "-c", "-f", tarball, "-C", tree, "."]);
    const image = await lib.import(tarball, "withdev");
    assert.deepEqual(await readdir(join(image.rootfsDir, "dev")), []);
    assert.equal(await readFile(join(image.rootfsDir, "usr/lib/dev/keep"), "utf8"), "kept");
  });
});
