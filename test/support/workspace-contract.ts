// The workspace contract every runtime passes, through the real CLI, daemon and btrfs
// loop-file pool on the real base image: lifecycle, exec, env, files, snapshot/restore, fork
// isolation, limits, adoption after a daemon restart. Registered once per runtime by
// test/integration/cli-workspace.test.ts (container) and vm-workspace.test.ts (vm, under TCG).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { runCommand } from "../../src/core/run-command.js";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { isRunningSync } from "../../src/core/process-state.js";
import { CliHarness } from "./cli-harness.js";
import { ensureImage } from "./base-image.js";
import { FORK_POOL_CONFIG, forkPoolOf, untilForkPool } from "./warm-fork-pool.js";

export interface WorkspaceContractOptions {
  runtime: "container" | "vm";
  /** Set for the suite: why it cannot run here (missing prerequisite). */
  skip: string | false;
  /** Extra environment for the CLI (e.g. AGENTISO_VM_ACCEL=tcg). */
  env?: NodeJS.ProcessEnv;
  /** The runtime can switch a workspace to NATed egress (VMs have no network device). */
  egress: boolean;
  /** Run the runtime-independent tests (init, check, images, bad input) in this suite. */
  commonTests: boolean;
  /** Take the snapshot that is forked and restored with its memory (VMs: forks and the restore resume it). */
  snapshotMemory?: boolean;
  /** Serve "alpha" (256M, 1 cpu) from a warm pool of one: the contract then runs on a pooled workspace. */
  pooled?: boolean;
  /** Make "alpha" a warm fork (of "seed", [pool] forksPerSnapshot = 2): the contract then runs on one, and every fork it makes is pooled. */
  warmFork?: boolean;
}

/** Extra CA certificates the CLI's user set (any PEM file will do; Debian's bundle is one). */
const EXTRA_CA_CERTS = "/etc/ssl/certs/ca-certificates.crt";
const ALPHA_POOL = '[[pool.entries]]\nsize = 1\nmemory = "256M"\ncpus = 1\n';

interface Ws {
  id: string;
  name: string;
  state: string;
  image: string;
  createdAt: string;
  network: string;
  forkedFrom?: { workspace: string; snapshot: string };
}

// Registers the contract suite for one runtime.
export function describeWorkspaceContract(options: WorkspaceContractOptions): void {
  // runtime-independent tests (init, check, images, bad input) are registered in one suite only
  const common = (name: string, fn: () => Promise<void>) => {
    if (options.commonTests) test(name, fn);
  };
  describe(`agentiso workspace CLI (${options.runtime} runtime)`, { skip: options.skip, timeout: 1_800_000 }, () => {
    let cli: CliHarness;
    const scratch = mkdtempSync("/tmp/ais-cli-files-");

    before(async () => {
      await ensureImage("base");
      cli = new CliHarness({ AGENTISO_RUNTIME: options.runtime, NODE_EXTRA_CA_CERTS: EXTRA_CA_CERTS, ...options.env });
      if (options.pooled) writeFileSync(join(cli.home, "config.toml"), ALPHA_POOL, { mode: 0o600 });
      if (options.warmFork) writeFileSync(join(cli.home, "config.toml"), FORK_POOL_CONFIG, { mode: 0o600 });
    });
    after(async () => {
      rmSync(scratch, { recursive: true, force: true });
      await cli?.[Symbol.asyncDispose]();
    });

    common("init is idempotent: a second run keeps the same single pool", async () => {
      await cli.ok(["init", "--pool-size", "8G"]);
      const mountsBefore = readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => l.includes(cli.home));
      const second = await cli.json<{ configChanged: boolean }>(["init", "--pool-size", "8G"]);
      const mountsAfter = readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => l.includes(cli.home));
      assert.equal(second.configChanged, false);
      assert.equal(mountsAfter.length, 1);
      assert.deepEqual(mountsAfter, mountsBefore);
    });

    common("check reports every prerequisite as present", async () => {
      const report = await cli.json<{ ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> }>(["check"]);
      assert.deepEqual(report.checks.filter((c) => !c.ok), []);
      // the default: the agent on the daemon's node, started from the snapshot `npm run build` made for it
      assert.match(report.checks.find((c) => c.name === "agent node")?.detail ?? "", /^the host's \S+ v\d+\.\d+\.\d+, from the agent's startup snapshot/);
    });

    test("create prints the workspace as JSON and ls/info find it by name and id", async () => {
      if (options.pooled) await waitForPool(cli);
      const ws = options.warmFork ? await warmForkAlpha(cli) : await cli.json<Ws & { runtime: string }>(["workspace", "create", "--name", "alpha", "--memory", "256M", "--cpus", "1"]);
      assert.equal(ws.name, "alpha");
      assert.equal(ws.runtime, options.runtime);
      assert.equal(ws.state, "running");
      assert.equal(ws.image, "base");
      assert.match(ws.createdAt, /^\d{4}-\d\d-\d\dT/);
      const list = await cli.json<Ws[]>(["ws", "ls"]);
      assert.ok(list.some((w) => w.id === ws.id && w.name === "alpha"));
      const info = await cli.json<Ws & { memoryMiB: number }>(["ws", "info", ws.id]);
      assert.equal(info.name, "alpha");
      assert.equal(info.memoryMiB, 256);
      if (options.pooled) assert.equal((await poolOf(cli)).hits, 1, "alpha came from the warm pool");
    });

    test("exec passes stdout, stderr and the exit code through, with workdir, env and timeout", async () => {
      const run = await cli.run(["ws", "exec", "alpha", "--workdir", "/tmp", "--env", "GREETING=hi there", "--", "sh", "-c", 'echo "$GREETING from $(pwd)"; echo oops >&2; exit 7']);
      assert.equal(run.code, 7);
      assert.equal(run.stdout, "hi there from /tmp\n");
      assert.equal(run.stderr, "oops\n");
      const slow = await cli.run(["ws", "exec", "alpha", "--timeout", "1", "--", "sleep", "30"]);
      assert.notEqual(slow.code, 0);
      assert.match(slow.stderr, /timed out/);
    });

    test("env sets variables that later execs see", async () => {
      await cli.ok(["ws", "env", "alpha", "API_TOKEN=s3cr3t", "MODE=test"]);
      assert.equal(await cli.ok(["ws", "exec", "alpha", "--", "sh", "-c", "echo $API_TOKEN-$MODE"]), "s3cr3t-test\n");
    });

    test("cp copies binary files into and out of a workspace unchanged", async () => {
      const original = randomBytes(5 * 1024 * 1024 + 123);
      writeFileSync(join(scratch, "in.bin"), original);
      await cli.ok(["ws", "cp", join(scratch, "in.bin"), "alpha:/root/data.bin"]);
      assert.equal(await cli.ok(["ws", "exec", "alpha", "--", "stat", "-c", "%s", "/root/data.bin"]), `${original.length}\n`);
      await cli.ok(["ws", "cp", "alpha:/root/data.bin", join(scratch, "out.bin")]);
      assert.ok(readFileSync(join(scratch, "out.bin")).equals(original));
    });

    common("stat, mkdir, mv and rm-file work inside a workspace; git-log, git-checkout and merge run git in workspaces", async () => {
      assert.equal(await cli.ok(["ws", "mkdir", "alpha", "/srv/t/a"]), "created /srv/t/a\n");
      await cli.ok(["ws", "exec", "alpha", "--", "sh", "-c", "printf 12345 > /srv/t/a/f.txt"]);
      assert.deepEqual(await cli.json(["ws", "mv", "alpha", "/srv/t/a/f.txt", "/srv/t/g.txt"]), { from: "/srv/t/a/f.txt", to: "/srv/t/g.txt" });
      assert.match(await cli.ok(["ws", "stat", "alpha", "/srv/t/g.txt"]), /^file 5 bytes mode 0644 modified \S+ \/srv\/t\/g\.txt\n$/);
      assert.equal((await cli.run(["ws", "rm-file", "alpha", "/srv/t"])).code, 5, "a non-empty directory needs -r");
      await cli.ok(["ws", "rm-file", "alpha", "-r", "/srv/t"]);
      assert.equal((await cli.run(["ws", "stat", "alpha", "/srv/t"])).code, 3);
      assert.equal((await cli.run(["ws", "mkdir", "alpha", "/srv/x", "--mode", "999"])).code, 2);
      const git = "git -c user.name=t -c user.email=t@t";
      await cli.ok(["ws", "exec", "alpha", "--", "sh", "-c", `git init -q -b main /srv/repo && cd /srv/repo && echo one > a.txt && git add . && ${git} commit -qm one`]);
      await cli.ok(["ws", "snapshot", "alpha", "pre-merge"]);
      const forks = await cli.json<Ws[]>(["ws", "fork", "alpha", "--snapshot", "pre-merge", "--count", "2", "--name-prefix", "mrg"]);
      await cli.ok(["ws", "exec", "mrg-1", "--", "sh", "-c", "echo two > /srv/repo/b.txt"]);
      await cli.ok(["ws", "exec", "mrg-2", "--", "sh", "-c", `cd /srv/repo && echo changed > a.txt && ${git} commit -qam two`]);
      const merge = await cli.run(["ws", "merge", "alpha", "mrg-1", "mrg-2", "--path", "/srv/repo", "--strategy", "cherry-pick"]);
      assert.equal(merge.code, 0, merge.stderr);
      assert.match(merge.stdout, /mrg-1 +applied/);
      assert.match(merge.stdout, /alpha is on main at [0-9a-f]{40}/);
      const log = await cli.json<{ commits: Array<{ subject: string }> }>(["ws", "git-log", "alpha", "--path", "/srv/repo", "-n", "3"]);
      assert.deepEqual(log.commits.map((c) => c.subject), ["merge workspace mrg-2", "merge workspace mrg-1", "one"]);
      assert.match(await cli.ok(["ws", "git-checkout", "alpha", "side", "-b", "--path", "/srv/repo"]), /^on side at [0-9a-f]{40}\n$/);
      assert.equal(await cli.ok(["ws", "exec", "alpha", "--", "cat", "/srv/repo/a.txt", "/srv/repo/b.txt"]), "changed\ntwo\n");
      const again = await cli.run(["ws", "merge", "alpha", "mrg-1", "--path", "/srv/repo"]);
      assert.equal(again.code, 5, "a source that conflicts makes merge exit 5 (conflict)");
      assert.match(again.stdout, /mrg-1 +conflicted/);
      await cli.ok(["ws", "destroy", ...forks.map((f) => f.name)]);
      await cli.ok(["ws", "snapshot-rm", "alpha", "pre-merge"]);
    });

    test("forks see the snapshot's files and their writes stay their own", async () => {
      await cli.ok(["ws", "exec", "alpha", "--", "sh", "-c", "mkdir -p /workspace && echo v1 > /workspace/a.txt"]);
      const golden = await cli.json<{ memoryBytes?: number }>(["ws", "snapshot", "alpha", "golden", ...(options.snapshotMemory ? ["--memory"] : [])]);
      assert.equal(golden.memoryBytes !== undefined, options.snapshotMemory === true, "a memory snapshot, and only one, records its memory's size");
      await cli.ok(["ws", "exec", "alpha", "--", "sh", "-c", "echo v2 > /workspace/a.txt"]);
      const forks = await cli.json<Ws[]>(["ws", "fork", "alpha", "--snapshot", "golden", "--count", "2", "--name-prefix", "worker"]);
      assert.deepEqual(forks.map((f) => f.name).sort(), ["worker-1", "worker-2"]);
      // fork and run in one CLI call: the command sees the snapshot's files, its exit code is the CLI's
      const oneCall = await cli.run(["ws", "fork", "alpha", "--snapshot", "golden", "--name", "worker-3", "--", "sh", "-c", "cat /workspace/a.txt; exit 3"]);
      assert.deepEqual({ code: oneCall.code, stdout: oneCall.stdout }, { code: 3, stdout: "v1\n" }, oneCall.stderr);
      assert.match(oneCall.stderr, /forked worker-3 \(\w+\) from alpha@golden/);
      for (const fork of forks) assert.deepEqual({ workspace: fork.forkedFrom?.workspace, snapshot: fork.forkedFrom?.snapshot }, { workspace: "alpha", snapshot: "golden" });
      await cli.ok(["ws", "exec", "worker-1", "--", "sh", "-c", "echo mine > /workspace/a.txt"]);
      assert.equal(await cli.ok(["ws", "exec", "worker-1", "--", "cat", "/workspace/a.txt"]), "mine\n");
      assert.equal(await cli.ok(["ws", "exec", "worker-2", "--", "cat", "/workspace/a.txt"]), "v1\n");
      assert.equal(await cli.ok(["ws", "exec", "alpha", "--", "cat", "/workspace/a.txt"]), "v2\n");
      const snaps = await cli.json<Array<{ name: string; dependents: string[] }>>(["ws", "snapshots", "alpha"]);
      assert.deepEqual(snaps.map((s) => [s.name, s.dependents.sort()]), [["golden", ["worker-1", "worker-2", "worker-3"]]]);
    });

    test("restore rolls back and snapshot-rm is refused while forks depend on the snapshot", async () => {
      await cli.ok(["ws", "restore", "alpha", "golden"]);
      assert.equal(await cli.ok(["ws", "exec", "alpha", "--", "cat", "/workspace/a.txt"]), "v1\n");
      const refused = await cli.run(["ws", "snapshot-rm", "alpha", "golden"]);
      assert.equal(refused.code, 5);
      assert.match(refused.stderr, /worker-1/);
      const destroyRefused = await cli.run(["ws", "destroy", "alpha"]);
      assert.equal(destroyRefused.code, 5);
      await cli.ok(["ws", "destroy", "worker-1", "worker-2", "worker-3"]);
      await cli.ok(["ws", "snapshot-rm", "alpha", "golden"]);
      assert.deepEqual(await cli.json(["ws", "snapshots", "alpha"]), []);
    });

    test("stop keeps the files, start brings the workspace back, logs and network switch work", async () => {
      await cli.ok(["ws", "exec", "alpha", "--", "sh", "-c", "echo kept > /root/kept.txt"]);
      assert.equal((await cli.json<Ws>(["ws", "stop", "alpha"])).state, "stopped");
      const refused = await cli.run(["ws", "exec", "alpha", "--", "true"]);
      assert.equal(refused.code, 125);
      assert.match(refused.stderr, /stopped/);
      assert.equal((await cli.json<Ws>(["ws", "start", "alpha"])).state, "running");
      assert.equal(await cli.ok(["ws", "exec", "alpha", "--", "cat", "/root/kept.txt"]), "kept\n");
      assert.ok((await cli.ok(["ws", "logs", "alpha"])).length > 0);
      if (options.egress) {
        assert.equal((await cli.json<Ws>(["ws", "network", "alpha", "egress"])).network, "egress");
      } else {
        const refused = await cli.run(["ws", "network", "alpha", "egress"]);
        assert.notEqual(refused.code, 0);
        assert.match(refused.stderr, /no network device/);
      }
      assert.equal((await cli.json<Ws>(["ws", "network", "alpha", "none"])).network, "none");
    });

    test("a memory hog is killed and a fork bomb hits the pids limit while the workspace survives", async () => {
      await cli.ok(["ws", "create", "--name", "limited", "--memory", "96M", "--pids-limit", "64"]);
      const hog = await cli.run(["ws", "exec", "limited", "--", "node", "-e", "const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))"]);
      assert.equal(hog.code, 137, hog.stderr);
      const bomb = await cli.run(["ws", "exec", "limited", "--timeout", "20", "--", "sh", "-c", "for i in $(seq 200); do sleep 3 & done; wait"]);
      assert.match(bomb.stderr, /Cannot fork|Resource temporarily unavailable/i);
      assert.equal(await cli.ok(["ws", "exec", "limited", "--", "echo", "alive"]), "alive\n");
      await cli.ok(["ws", "destroy", "limited"]);
    });

    common("bad input gets a clear error and a documented exit code", async () => {
      const missing = await cli.run(["ws", "info", "no-such-ws"]);
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /no workspace/);
      const badName = await cli.run(["ws", "create", "--name", "../etc"]);
      assert.equal(badName.code, 2);
      const badFlag = await cli.run(["ws", "create", "--bogus"]);
      assert.equal(badFlag.code, 2);
      const duplicate = await cli.run(["ws", "create", "--name", "alpha"]);
      assert.equal(duplicate.code, 5);
    });

    common("image ls lists the built images, import takes a rootfs tarball and rm removes it", async () => {
      const images = await cli.json<Array<{ name: string; hash: string; sizeBytes: number }>>(["image", "ls"]);
      assert.ok(images.some((i) => i.name === "base" && i.sizeBytes > 0));
      const rootfs = join(scratch, "rootfs");
      mkdirSync(join(rootfs, "etc"), { recursive: true });
      writeFileSync(join(rootfs, "etc", "os-release"), 'PRETTY_NAME="tiny"\n');
      const tarball = join(scratch, "tiny.tar.gz");
      await runCommand(["tar", "-czf", tarball, "-C", rootfs, "."]);
      const name = `tiny-${randomBytes(3).toString("hex")}`;
      try {
        const imported = await cli.json<{ name: string }>(["image", "import", tarball, "--name", name]);
        assert.equal(imported.name, name);
        assert.ok((await cli.json<Array<{ name: string }>>(["image", "ls"])).some((i) => i.name === name));
        assert.equal((await cli.run(["image", "import", tarball, "--name", name])).code, 5, "a second import without --replace is a conflict");
      } finally {
        await cli.ok(["image", "rm", name]);
      }
      assert.ok(!(await cli.json<Array<{ name: string }>>(["image", "ls"])).some((i) => i.name === name));
    });

    test("daemon status reports the daemon, stop ends it and the next command starts a new one", async () => {
      const status = await cli.json<{ running: boolean; pid: number }>(["daemon", "status"]);
      assert.equal(status.running, true);
      await cli.ok(["daemon", "stop"]);
      assert.equal((await cli.run(["daemon", "status"])).code, 3);
      assert.equal((await cli.json<Ws>(["ws", "info", "alpha"])).state, "running", "the workspace outlived the daemon and was adopted");
      assert.notEqual((await cli.json<{ pid: number }>(["daemon", "status"])).pid, status.pid);
      // started by a CLI that node ran without them (bin/agentiso.js): the daemon still trusts the operator's CAs
      const environ = readFileSync(`/proc/${cli.daemonPid()}/environ`, "latin1").split("\0");
      assert.deepEqual(environ.filter((entry) => /^(NODE_EXTRA_CA_CERTS|AGENTISO_DEFERRED)/.test(entry)), [`NODE_EXTRA_CA_CERTS=${EXTRA_CA_CERTS}`]);
    });

    test("after kill -9 of the daemon the running workspace is adopted: listed running, exec works", async () => {
      const pid = cli.daemonPid()!;
      process.kill(pid, "SIGKILL");
      while (isRunningSync(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal((await cli.json<Ws>(["ws", "info", "alpha"])).state, "running");
      assert.equal(await cli.ok(["ws", "exec", "alpha", "--", "echo", "adopted"]), "adopted\n");
    });

    test("destroy removes the workspace", async () => {
      await cli.ok(["ws", "destroy", "alpha"]);
      if (options.warmFork) for (const seed of ["seed-1", "seed"]) await cli.ok(["ws", "destroy", seed]);
      assert.deepEqual(await cli.json(["ws", "ls"]), []);
    });
  });
}

async function poolOf(cli: CliHarness): Promise<{ ready: number; hits: number }> {
  return (JSON.parse(await cli.ok(["op", "workspace_pool"])) as { pools: Array<{ ready: number; hits: number }> }).pools[0]!;
}

async function waitForPool(cli: CliHarness): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await poolOf(cli)).ready < 1) {
    if (Date.now() > deadline) throw new Error("the warm pool did not fill in 2 minutes");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// "alpha" forked from a warm pool of forks of seed@base (256M, 1 cpu), begun by a fresh fork.
async function warmForkAlpha(cli: CliHarness): Promise<Ws & { runtime: string }> {
  await cli.ok(["ws", "create", "--name", "seed", "--memory", "256M", "--cpus", "1"]);
  await cli.ok(["ws", "snapshot", "seed", "base"]);
  await cli.ok(["ws", "fork", "seed", "--snapshot", "base", "--name", "seed-1"]);
  await untilForkPool(cli, "seed", "base", (p) => p.ready === 2, "filled");
  const [alpha] = await cli.json<Array<Ws & { runtime: string }>>(["ws", "fork", "seed", "--snapshot", "base", "--name", "alpha"]);
  assert.equal((await forkPoolOf(cli, "seed", "base"))?.hits, 1, "alpha came from the fork pool");
  assert.deepEqual({ workspace: alpha!.forkedFrom?.workspace, snapshot: alpha!.forkedFrom?.snapshot }, { workspace: "seed", snapshot: "base" });
  return alpha!;
}
