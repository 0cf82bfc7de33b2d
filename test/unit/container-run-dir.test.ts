// Run dir preparation and the endpoint hard link, on the real filesystem (fast; needs root for chown).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { mkdtemp, rm, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { linkEndpoint, prepareRunDir } from "../../src/runtimes/container/run-dir.js";
import { isRoot, requires } from "../support/prereq.js";

const listen = (path: string) => new Promise<Server>((resolve) => { const s = createServer(); s.listen(path, () => resolve(s)); });

describe("workspace run dir", { skip: requires(isRoot()) }, () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const dir = await mkdtemp("/tmp/aisrd-");
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test("the agent's socket directory is owned by the shifted root and private", async () => {
    const paths = await prepareRunDir(join(await tmp(), "w1"), "w1", 100000);
    const st = await stat(paths.agentDir);
    assert.equal(st.uid, 100000);
    assert.equal(st.gid, 100000);
    assert.equal(st.mode & 0o777, 0o700);
    assert.equal((await stat(join(paths.agentDir, ".."))).uid, 0);
  });

  test("a run dir too long for a unix socket path is refused with INVALID_INPUT", async () => {
    const long = join(await tmp(), "x".repeat(100));
    await assert.rejects(prepareRunDir(long, "w1", 100000), (err: unknown) => isAgentisoError(err, "INVALID_INPUT"));
  });

  test("the endpoint links the agent's own socket and refuses a symlink planted in its place", async () => {
    const paths = await prepareRunDir(join(await tmp(), "w2"), "w2", 0);
    const agent = await listen(paths.socket);
    try {
      await linkEndpoint(paths, 0);
      assert.ok((await stat(paths.endpoint)).isSocket());
      await assert.rejects(linkEndpoint(paths, 100000), (err: unknown) => isAgentisoError(err, "GUEST_UNREACHABLE"), "owned by the wrong uid");
    } finally {
      await new Promise((resolve) => agent.close(resolve));
    }
    const hostSocket = join(await tmp(), "host.sock");
    const host = await listen(hostSocket);
    try {
      await rm(paths.socket, { force: true });
      await symlink(hostSocket, paths.socket);
      await assert.rejects(linkEndpoint(paths, 0), (err: unknown) => isAgentisoError(err, "GUEST_UNREACHABLE"));
    } finally {
      await new Promise((resolve) => host.close(resolve));
    }
  });
});
