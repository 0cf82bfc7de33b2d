// The real `base` image, built with mmdebstrap from the Debian mirror (or reused from the
// shared cache /var/cache/agentiso-test/images): the tools a workspace promises are there.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { access, lstat, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBaseImage, materializeBaseImage, testImageLibrary } from "../support/base-image.js";
import { runCommand } from "../../src/core/run-command.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

const skip = requires(isRoot(), hasCommand("mmdebstrap"), hasCommand("unshare"));

describe("base image", { skip }, () => {
  let rootfsDir: string;
  // Images carry no /dev: bind the host's /dev and /proc into a private mount namespace for the chroot,
  // so the shared cached rootfs is never modified (the mount dies with the namespace).
  const inImage = (...argv: string[]) =>
    runCommand(["unshare", "-m", "sh", "-c", 'mount --bind /dev "$0/dev" && mount --bind /proc "$0/proc" && exec chroot "$0" "$@"', rootfsDir, ...argv], {
      env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root" },
    });

  before(async () => {
    ({ rootfsDir } = await ensureBaseImage());
  });

  test("it has bash, git, curl and tini that run", async () => {
    assert.match((await inImage("bash", "-c", "echo $BASH_VERSION")).stdout, /^5\./);
    assert.match((await inImage("git", "--version")).stdout, /^git version 2\./);
    assert.match((await inImage("curl", "--version")).stdout, /^curl 7\./);
    assert.match((await inImage("tini", "--version")).stdout, /tini version/);
    assert.match((await inImage("ps", "--version")).stdout, /procps/);
  });

  test("its node runs and is the version the manifest records", async () => {
    const { manifest } = await ensureBaseImage();
    const version = (await inImage("node", "--version")).stdout.trim();
    assert.equal(version, `v${manifest.nodeVersion}`);
    assert.match(version, /^v18\./);
  });

  test("it trusts the public CAs (ca-certificates bundle present)", async () => {
    await access(join(rootfsDir, "etc/ssl/certs/ca-certificates.crt"));
    const { manifest } = await ensureBaseImage();
    for (const pkg of ["bash", "coreutils", "procps", "git", "ca-certificates", "curl", "nodejs", "tini"]) {
      assert.ok(manifest.packages[pkg], `manifest lists ${pkg}`);
    }
    assert.equal(manifest.osRelease, "Debian GNU/Linux 12 (bookworm)");
  });

  test("it carries no device nodes and no apt lists", async () => {
    assert.deepEqual(await readdir(join(rootfsDir, "dev")), []);
    assert.deepEqual((await readdir(join(rootfsDir, "var/lib/apt/lists"))).filter((f) => f !== "partial" && f !== "lock"), []);
  });

  test("building it again returns the cached image", async () => {
    const first = await ensureBaseImage();
    const again = await testImageLibrary().build("base");
    assert.equal(again.manifest.createdAt, first.manifest.createdAt);
    assert.equal(again.rootfsDir, first.rootfsDir);
  });

  describe("materialised for a user namespace", () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "agentiso-base-shift-"));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test("every file is owned by the shifted root and setuid passwd keeps its bit", async () => {
      const target = join(dir, "rootfs");
      await materializeBaseImage(target, { idShift: 100000 });
      const passwd = await lstat(join(target, "usr/bin/passwd"));
      assert.deepEqual([passwd.uid, passwd.gid, passwd.mode & 0o7777], [100000, 100000, 0o4755]);
      const shadowGroup = await lstat(join(target, "etc/shadow"));
      assert.ok(shadowGroup.gid > 100000, "etc/shadow keeps its shadow group, shifted");
      const unshifted = await runCommand(["find", target, "-xdev", "(", "-uid", "-100000", "-o", "-gid", "-100000", ")", "-print", "-quit"]);
      assert.equal(unshifted.stdout, "", "no inode left below the shift");
    });
  });
});
