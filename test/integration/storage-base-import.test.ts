// Importing untrusted tarballs as bases: members that climb out with ".." or through a symlink
// the archive itself planted are refused (GNU tar), and nothing lands outside the target.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { access, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { runCommand } from "../../src/core/run-command.js";
import { populateDirectory } from "../../src/storage/base-import.js";
import { hasCommand, requires } from "../support/prereq.js";

describe("tarball import into a base", { skip: requires(hasCommand("tar")) }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ais-import-test-"));
    await mkdir(join(dir, "src"));
    await mkdir(join(dir, "planted/link"), { recursive: true });
    await writeFile(join(dir, "src/x"), "escaped");
    await writeFile(join(dir, "planted/link/owned"), "owned");
    await symlink(join(dir, "victim"), join(dir, "src/link"));
    await mkdir(join(dir, "victim"));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a member named ../something is refused and nothing is written outside the target", async () => {
    const tarball = join(dir, "dotdot.tar");
    await runCommand(["tar", "-cf", tarball, "-P", "-C", join(dir, "src"), "--transform", "s,^x$,../escaped,", "x"]);
    const target = join(dir, "target-dotdot");
    await mkdir(target);
    await assert.rejects(populateDirectory({ kind: "tarball", path: tarball }, target), (e: unknown) => isAgentisoError(e, "BACKEND_FAILED"));
    await assert.rejects(access(join(dir, "escaped")));
  });

  test("a file written through a symlink planted by the same archive is refused", async () => {
    const tarball = join(dir, "symlink.tar");
    await runCommand(["tar", "-cf", tarball, "-C", join(dir, "src"), "link"]);
    await runCommand(["tar", "-rf", tarball, "-C", join(dir, "planted"), "link/owned"]);
    const target = join(dir, "target-symlink");
    await mkdir(target);
    await assert.rejects(populateDirectory({ kind: "tarball", path: tarball }, target), (e: unknown) => isAgentisoError(e, "BACKEND_FAILED"));
    assert.deepEqual(await readdir(join(dir, "victim")), []);
  });
});
