// The one resolver of host paths: a session's paths stay in its own transfer directory (`..`,
// absolute paths elsewhere and symlinks out are refused), and every read is a bounded read of a
// regular file — /dev/zero, a FIFO and a sparse 64 GiB file are refused without being read.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { confinedHostPaths, readBoundedFile, sessionTransferDir, trustedHostPaths } from "../../src/core/host-paths.js";
import { runCommand } from "../../src/core/run-command.js";

function scratch(): { dir: string } & Disposable {
  const dir = mkdtempSync(join(tmpdir(), "seca-host-paths-"));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

async function code(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(isAgentisoError(err), `expected an AgentisoError, got ${String(err)}`);
  return err.code;
}

function rssKiB(): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]);
}

describe("host paths", () => {
  test("each session gets its own directory, named by a hash: no session id can name a path", () => {
    const a = sessionTransferDir("/t", "agent-a");
    assert.match(a, /^\/t\/[0-9a-f]{16}$/);
    assert.notEqual(a, sessionTransferDir("/t", "agent-b"));
    assert.equal(a, sessionTransferDir("/t", "agent-a"));
    assert.match(sessionTransferDir("/t", "../../etc"), /^\/t\/[0-9a-f]{16}$/);
  });

  test("a confined resolver takes relative paths and absolute ones inside; refuses .., other absolute paths and symlinks out", async () => {
    using tmp = scratch();
    const root = join(tmp.dir, "transfer", "s1");
    const paths = confinedHostPaths(root);
    assert.equal(await paths.resolve("new/file.txt", { forWriting: true }), join(root, "new/file.txt"));
    writeFileSync(join(root, "in.txt"), "x");
    assert.equal(await paths.resolve("in.txt"), join(root, "in.txt"));
    assert.equal(await paths.resolve(join(root, "in.txt")), join(root, "in.txt"));
    assert.equal(await paths.resolve("."), root);
    mkdirSync(join(root, "sub"));
    symlinkSync(join(root, "sub"), join(root, "inside-link"));
    assert.equal(await paths.resolve("inside-link"), join(root, "sub"), "a symlink that stays inside is fine");
    symlinkSync("/etc", join(root, "escape"));
    symlinkSync("/dev/zero", join(root, "zero"));
    mkdirSync(join(tmp.dir, "transfer", "s2"));
    writeFileSync(join(tmp.dir, "transfer", "s2", "theirs.txt"), "other session");
    for (const bad of ["../s2/theirs.txt", join(tmp.dir, "transfer", "s2", "theirs.txt"), "/etc/passwd", "escape/passwd", "zero", "sub/../../s2", `${root}/../s2`]) {
      assert.equal(await code(paths.resolve(bad, { forWriting: true })), "PERMISSION_DENIED", bad);
    }
    assert.equal(await code(paths.resolve("missing.txt")), "NOT_FOUND");
    const message = await paths.resolve("/etc/passwd").catch((e: Error) => e.message);
    assert.match(String(message), /outside the transfer directory/);
  });

  test("the trusted resolver takes any absolute path and refuses relative ones", async () => {
    const paths = trustedHostPaths();
    assert.equal(await paths.resolve("/etc/../etc/hostname"), "/etc/hostname");
    assert.equal(await code(paths.resolve("relative/x")), "INVALID_INPUT");
  });

  test("bounded reads refuse /dev/zero, a FIFO and a sparse 64 GiB file without reading them; memory stays flat", async () => {
    using tmp = scratch();
    const before = rssKiB();
    const started = performance.now();
    assert.equal(await code(trustedHostPaths().readFile("/dev/zero", { maxBytes: 4 << 20, what: "stub script" })), "INVALID_INPUT");
    const fifo = join(tmp.dir, "fifo");
    await runCommand(["mkfifo", fifo]);
    assert.equal(await code(trustedHostPaths().readFile(fifo, { maxBytes: 4 << 20, what: "stub script" })), "INVALID_INPUT", "a FIFO nobody writes is refused, not waited on");
    const sparse = join(tmp.dir, "sparse");
    closeSync(openSync(sparse, "w"));
    truncateSync(sparse, 64 * 1024 ** 3);
    const message = await trustedHostPaths().readFile(sparse, { maxBytes: 4 << 20, what: "stub script" }).catch((e: Error) => e.message);
    assert.match(String(message), /is 68719476736 bytes, over the 4194304-byte limit/);
    const elapsedMs = performance.now() - started;
    const after = rssKiB();
    console.log(`bounded reads: RSS ${before} KiB before, ${after} KiB after; ${elapsedMs.toFixed(1)} ms`);
    assert.ok(after - before < 16 * 1024, `RSS grew by ${after - before} KiB`);
  });

  test("a confined read does not follow a symlink, even one planted after the path was checked", async () => {
    using tmp = scratch();
    const target = join(tmp.dir, "target.json");
    writeFileSync(target, "{}");
    symlinkSync(target, join(tmp.dir, "link.json"));
    assert.equal(await code(readBoundedFile(join(tmp.dir, "link.json"), { maxBytes: 100, what: "x", noFollow: true })), "PERMISSION_DENIED");
    assert.equal((await readBoundedFile(join(tmp.dir, "link.json"), { maxBytes: 100, what: "x", noFollow: false })).toString(), "{}");
    writeFileSync(join(tmp.dir, "big"), "x".repeat(101));
    assert.equal(await code(readBoundedFile(join(tmp.dir, "big"), { maxBytes: 100, what: "x", noFollow: true })), "INVALID_INPUT");
    assert.equal((await readBoundedFile(join(tmp.dir, "big"), { maxBytes: 101, what: "x", noFollow: true })).length, 101);
  });
});
