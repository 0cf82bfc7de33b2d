// The real bundled agent (dist/agentiso-guest.cjs) as its own process on a unix socket:
// every operation, bad input, the set_env secret, hostname in a UTS namespace, shutdown.
import { connectUnix } from "../../src/guest/connect-unix.js";
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { isAgentisoError } from "../../src/core/errors.js";
import { startAgentProcess, type AgentProcess } from "../support/agent-process.js";
import { describeBadInput } from "../support/bad-input-suite.js";
import { describeGuestOperations } from "../support/guest-operations-suite.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { uniqueSleepSeconds, waitForNoProcess } from "../support/processes.js";
import type { GuestClient } from "../../src/guest/guest-client.js";

describe("bundled guest agent on a unix socket", () => {
  let agent: AgentProcess;
  let client: GuestClient;
  before(async () => {
    agent = await startAgentProcess();
    client = agent.client();
  });
  after(async () => {
    await agent[Symbol.asyncDispose]();
  });

  describeGuestOperations(() => ({ client, dir: agent.dir }));

  describe("bad input", () => {
    describeBadInput(() => ({
      open: connectUnix(agent.socketPath),
    }));
  });

  test("a set_env value reaches later execs and no file the agent writes", async () => {
    const secret = `sk-agentiso-${Math.random().toString(36).slice(2)}${Date.now()}`;
    await client.setEnv({ AGENTISO_SECRET_KEY: secret });
    assert.equal((await client.exec({ argv: ["printenv", "AGENTISO_SECRET_KEY"] })).stdout, `${secret}\n`);
    const job = await client.startJob({ argv: ["true"] });
    await client.writeFile(join(agent.dir, "notes.txt"), "no secrets here");
    await client.upload(join(agent.dir, "upload.bin"), Buffer.alloc(1024, 1));
    while ((await client.pollJob(job.jobId)).running);
    const leaks = await filesContaining(agent.dir, secret);
    assert.deepEqual(leaks, [], "the agent's working dir, HOME and TMPDIR hold no copy of the secret");
    assert.ok(!agent.stderr().includes(secret), "the agent's log does not contain the secret");
    const open = await openFilesOf(agent.pid);
    for (const file of open) assert.ok(!(await fileContains(file, secret)), `open file ${file} holds the secret`);
    await client.unsetEnv(["AGENTISO_SECRET_KEY"]);
  });

  test("two connections are served at once and one closing leaves the other working", async () => {
    const second = agent.client();
    await Promise.all([client.ping(), second.ping()]);
    await second.close();
    await client.ping();
  });
});

describe("bundled guest agent lifecycle", () => {
  test("configure sets the hostname inside the agent's own UTS namespace", { skip: requires(isRoot(), hasCommand("unshare")) }, async () => {
    await using agent = await startAgentProcess({ node: ["unshare", "--uts", process.execPath] });
    const client = agent.client();
    const name = `ws-${Math.random().toString(36).slice(2, 10)}`;
    await client.configure({ hostname: name });
    assert.equal((await client.exec({ argv: ["hostname"] })).stdout.trim(), name);
    assert.notEqual(spawnSync("hostname").stdout.toString().trim(), name, "the host's hostname is untouched");
  });

  test("configure without the privilege to set the hostname fails with PERMISSION_DENIED", { skip: requires(isRoot(), hasCommand("setpriv"), hasCommand("unshare")) }, async () => {
    // own UTS namespace too, so even a failed privilege drop could not rename the host
    const node = ["unshare", "--uts", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath];
    await using agent = await startAgentProcess({ node, owner: 65534 });
    await assert.rejects(agent.client().configure({ hostname: "nope" }), (err) => isAgentisoError(err, "PERMISSION_DENIED"));
  });

  test("configure with fresh entropy succeeds and a clock without CAP_SYS_TIME is PERMISSION_DENIED", { skip: requires(isRoot(), hasCommand("setpriv")) }, async () => {
    // as nobody, so the host's clock can never be touched (and the time asked is now anyway)
    const node = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath];
    await using agent = await startAgentProcess({ node, owner: 65534 });
    const client = agent.client();
    await client.configure({ entropy: Buffer.alloc(64, 0xa5) });
    await assert.rejects(client.configure({ clockEpochMs: Date.now() }), (err) => isAgentisoError(err, "PERMISSION_DENIED") && /CAP_SYS_TIME/.test(err.message));
    await client.ping();
  });

  test("shutdown makes the agent exit with code 0 and background jobs die with it", async () => {
    const agent = await startAgentProcess();
    try {
      const client = agent.client();
      const marker = uniqueSleepSeconds();
      await client.startJob({ argv: ["sleep", marker] });
      await client.shutdown();
      assert.equal(await agent.exited, 0);
      assert.deepEqual(await waitForNoProcess(marker), [], "the job's process is gone");
    } finally {
      await agent[Symbol.asyncDispose]();
    }
  });
});

async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && (await fileContains(path, needle))) found.push(path);
  }
  return found;
}

async function fileContains(path: string, needle: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    return (await readFile(path)).includes(needle);
  } catch {
    return false;
  }
}

async function openFilesOf(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  return fds.map((fd) => `/proc/${pid}/fd/${fd}`);
}
