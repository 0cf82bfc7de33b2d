// The daemon can die at any moment (kill -9, OOM, reboot of the service): the next daemon
// must adopt what runs, finish or undo what was cut off, and leave nothing orphaned. And a
// long series of create/destroy cycles must not leak a single host resource.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { CliHarness, CLI, leftoversOf } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));

interface Ws {
  id: string;
  name: string;
  state: string;
}

// Resolves once `text` appears in the daemon log (the readiness signal for "fork in flight").
async function waitForLog(path: string, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path) && readFileSync(path, "utf8").includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${text} never appeared in ${path}`);
}

describe("crash safety", { skip, timeout: 900_000 }, () => {
  test("after kill -9 of the daemon mid-fork, 5 running workspaces are adopted and the fork is complete or gone", async () => {
    await ensureImage("base");
    await using cli = new CliHarness();
    for (let i = 1; i <= 5; i++) await cli.ok(["ws", "create", "--name", `ws${i}`]);
    await cli.ok(["ws", "snapshot", "ws1", "s1"]);
    const forking = spawn(process.execPath, [CLI, "ws", "fork", "ws1", "--snapshot", "s1", "--count", "3", "--name-prefix", "f"], { env: cli.env, stdio: "ignore" });
    const forkDone = new Promise((resolve) => forking.on("close", resolve));
    await waitForLog(join(cli.home, "daemon.log"), "workspace fork started", 60_000);
    process.kill(cli.daemonPid()!, "SIGKILL");
    await forkDone;

    const list = await cli.json<Ws[]>(["ws", "ls"]);
    const originals = list.filter((w) => /^ws\d$/.test(w.name));
    assert.deepEqual(originals.map((w) => [w.name, w.state]), [1, 2, 3, 4, 5].map((i) => [`ws${i}`, "running"]));
    for (const ws of originals) assert.equal(await cli.ok(["ws", "exec", ws.name, "--", "echo", "ok"]), "ok\n");
    const forks = list.filter((w) => w.name.startsWith("f-"));
    for (const fork of forks) {
      assert.equal(fork.state, "running", `fork ${fork.name} is ${fork.state}`);
      assert.equal(await cli.ok(["ws", "exec", fork.name, "--", "echo", "ok"]), "ok\n");
    }
    // Nothing runs that the database does not know.
    const runcList = await cli.ok(["ws", "ls", "--json"]);
    assert.ok(runcList.length > 0);
    const orphans = leftoversOf(cli.home).filter((l) => l.startsWith("cgroup") || l.startsWith("netns"));
    const knownIds = new Set(list.map((w) => w.id));
    assert.deepEqual(orphans.filter((l) => ![...knownIds].some((id) => l.endsWith(`-ws-${id}`))), []);
  });

  test("100 create/destroy cycles leave no mounts, loop devices, cgroups, namespaces or processes behind", async () => {
    await ensureImage("base");
    await using cli = new CliHarness();
    await cli.ok(["ws", "create", "--name", "warmup"]);
    await cli.ok(["ws", "destroy", "warmup"]);
    const before = leftoversOf(cli.home).sort();
    const batch = 4;
    for (let round = 0; round < 100 / batch; round++) {
      await Promise.all(
        Array.from({ length: batch }, async (_, i) => {
          const name = `c${round}-${i}`;
          await cli.ok(["ws", "create", "--name", name]);
          await cli.ok(["ws", "destroy", name]);
        }),
      );
    }
    assert.deepEqual(await cli.json(["ws", "ls"]), []);
    assert.deepEqual(leftoversOf(cli.home).sort(), before);
  });
});
