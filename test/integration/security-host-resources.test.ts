// Attacks on the host's resources from inside workspaces, through the public surface (the CLI
// and commands inside a workspace), each shown blocked with nothing lost (docs/security.md,
// findings 7, 8, 9 and 12): egress to the networks around the host, a setuid shell for local
// users, snapshots that grow a workspace past its disk limit, a snapshot torn by kill -9 of the
// daemon, and what a workspace's processes and QEMU may do on the host.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { BtrfsStorage } from "../../src/storage/btrfs-storage.js";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { privateSubnet, startFakeInternet, type FakeInternet } from "../support/runtime-fake-internet.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("slirp4netns"), hasCommand("nft"));

interface Ws {
  id: string;
  name: string;
}

/** The container workspace's root filesystem on the host (the btrfs loop pool's subvolume). */
function rootfsOnHost(cli: CliHarness, id: string): string {
  const prefix = resourceTagFor(cli.home).prefix;
  return join(cli.home, "pool", "mnt", prefix, "workspaces", id);
}

/**
 * Runs a file as another local user, as a login would: every capability dropped by the uid
 * change before exec. (Not `setpriv --reuid`: it keeps its capabilities until the exec, so the
 * exec's path lookup still passes any directory — measured: it ran a file in a 0710 dir.)
 */
function runAs(uid: number, gid: number, file: string, args: string[]) {
  return spawnSync(file, args, { uid, gid, encoding: "utf8", timeout: 10_000 });
}

describe("host resources under attack from workspaces", { skip, timeout: 900_000 }, () => {
  let cli: CliHarness;
  let lan: FakeInternet;
  let allowedLan: FakeInternet;

  before(async () => {
    await ensureImage("base");
    lan = await startFakeInternet({ subnet: await privateSubnet() });
    allowedLan = await startFakeInternet({ subnet: await privateSubnet() });
    cli = new CliHarness();
    // the operator's [net] policy: one LAN host is allowed, one public range more is denied
    writeFileSync(join(cli.home, "config.toml"), `[net]\nallow = ["${allowedLan.address}/32"]\ndeny = ["203.0.113.0/24"]\n`);
  });
  after(async () => {
    await cli?.[Symbol.asyncDispose]();
    await lan?.close();
    await allowedLan?.close();
  });

  const exec = (ws: string, script: string) => cli.run(["ws", "exec", ws, "--", "sh", "-c", script]);
  const idOf = async (name: string) => (await cli.json<Ws[]>(["ws", "ls"])).find((w) => w.name === name)!.id;

  test("egress: a LAN host is refused at once, the operator's allowed LAN host answers, and config.toml decides", async () => {
    await cli.ok(["ws", "create", "--name", "net", "--network", "egress"]);
    const refused = await exec("net", `curl -sS --max-time 5 ${lan.url}`);
    // curl 7: could not connect (a reset from the filter); 28 would be a timeout (a silent drop)
    assert.equal(refused.code, 7, `the LAN host answered or the refusal was slow: ${refused.stdout}${refused.stderr}`);
    assert.equal((await exec("net", `curl -sS --max-time 5 ${allowedLan.url}`)).stdout, "hello from the fake internet\n");
    // the host's own route reaches the refused one: the filter stopped the workspace, not a dead server
    assert.equal(spawnSync("curl", ["-sS", "--max-time", "5", lan.url], { encoding: "utf8" }).stdout, "hello from the fake internet\n");
    assert.equal((await exec("net", "curl -sS --max-time 5 http://169.254.169.254/latest/meta-data/")).code, 7);
    await cli.ok(["ws", "destroy", "net"]);
  });

  test("a setuid shell planted by a workspace is no use to another local user: they cannot reach it, and where they could it gives no uid", async () => {
    await cli.ok(["ws", "create", "--name", "suid"]);
    const plant = await exec("suid", "cp /bin/bash /tmp/rootsh && chmod 4755 /tmp/rootsh && stat -c '%a %u' /tmp/rootsh");
    assert.equal(plant.stdout, "4755 0\n", plant.stderr);
    const planted = join(rootfsOnHost(cli, await idOf("suid")), "tmp", "rootsh");
    const onHost = statSync(planted);
    assert.equal(onHost.mode & 0o7777, 0o4755, "the setuid bit is there on the host");
    assert.equal(onHost.uid, 100000, "owned by the workspaces' root");

    // the state dir is the door: 0710 root:<workspaces' gid>, so an ordinary user stops there
    const home = statSync(cli.home);
    assert.deepEqual([home.mode & 0o777, home.uid, home.gid], [0o710, 0, 100000]);
    const nobody = runAs(65534, 65534, planted, ["-p", "-c", "id -u; id -un"]);
    assert.equal((nobody.error as NodeJS.ErrnoException | undefined)?.code, "EACCES", `nobody ran it: ${nobody.stdout}`);

    // and the pool is mounted nosuid,nodev: even a user who can pass the door gains no uid
    const poolMount = readFileSync("/proc/mounts", "utf8").split("\n").find((l) => l.split(" ")[1] === join(cli.home, "pool", "mnt"));
    assert.match(poolMount!.split(" ")[3]!, /(^|,)nosuid(,|$)/);
    assert.match(poolMount!.split(" ")[3]!, /(^|,)nodev(,|$)/);
    const insider = runAs(100001, 100000, planted, ["-p", "-c", "id -u; id -ru"]);
    assert.equal(insider.status, 0, insider.stderr);
    assert.equal(insider.stdout, "100001\n100001\n", "the effective uid stayed the caller's");

    // inside, root still switches users (root needs no setuid), and a setuid file gives nothing there either (no_new_privs)
    assert.equal((await exec("suid", "su nobody -s /bin/sh -c 'id -u'")).stdout, "65534\n");
    const inside = await exec("suid", "su nobody -s /bin/sh -c '/tmp/rootsh -p -c \"id -u\"'");
    assert.equal(inside.stdout, "65534\n", inside.stderr);
    await cli.ok(["ws", "destroy", "suid"]);
  });

  test("a snapshot that fills the disk quota: rewriting past it fails with EDQUOT inside, and the daemon keeps serving", async () => {
    await cli.ok(["ws", "create", "--name", "hoard", "--disk", "64M"]);
    assert.equal((await exec("hoard", "dd if=/dev/zero of=/first bs=1M count=40 status=none && sync && echo written")).stdout, "written\n");
    await cli.ok(["ws", "snapshot", "hoard", "s1"]);
    // the snapshot keeps the first 40 MiB: another 40 do not fit in 64, whatever is deleted live
    const rewrite = await exec("hoard", "rm /first && dd if=/dev/zero of=/second bs=1M count=40 status=none && sync");
    assert.notEqual(rewrite.code, 0, "the snapshot's bytes were not counted");
    assert.match(rewrite.stderr, /Disk quota exceeded/);
    // nothing lost: the workspace answers, the snapshot is intact, the daemon serves everyone
    assert.equal(await cli.ok(["ws", "exec", "hoard", "--", "echo", "still here"]), "still here\n");
    const forked = await cli.json<Ws[]>(["ws", "fork", "hoard", "--snapshot", "s1", "--name-prefix", "hoard-f"]);
    assert.equal((await exec(forked[0]!.name, "stat -c %s /first")).stdout, `${40 * 1024 * 1024}\n`);
    assert.equal((await cli.run(["ws", "ls"])).code, 0);
    // the daemon's own state is not on the pool a workspace can fill
    assert.ok(statSync(join(cli.home, "state.db")).isFile());
    assert.ok(!readFileSync("/proc/mounts", "utf8").split("\n").some((l) => l.split(" ")[1] === cli.home), "the state dir is not a mount of the pool");
    await cli.ok(["ws", "destroy", forked[0]!.name]);
    await cli.ok(["ws", "destroy", "hoard"]);
  });

  test("kill -9 of the daemon between the storage snapshot and its record: the next daemon repairs it and the name is reusable", async () => {
    await cli.ok(["ws", "create", "--name", "torn"]);
    const id = await idOf("torn");
    process.kill(cli.daemonPid()!, "SIGKILL");
    // what a kill at that instant leaves: the storage snapshot exists, its row was never written
    const storage = new BtrfsStorage({ stateDir: cli.home, tag: resourceTagFor(cli.home), logger: silentLogger });
    await storage.setup();
    await storage.snapshot(id, "s1");
    // (the pool stays attached: the workspace runs on it; nothing else of this object needs closing)
    await cli.ok(["ws", "snapshot", "torn", "s1"]);
    assert.match(readFileSync(join(cli.home, "daemon.log"), "utf8"), /removing a snapshot that was never recorded/);
    assert.deepEqual((await cli.json<Array<{ name: string }>>(["ws", "snapshots", "torn"])).map((s) => s.name), ["s1"]);
    await cli.ok(["ws", "destroy", "torn"]);
  });

  test("the control socket is 0600, and a workspace's processes get bounded rlimits (no core dumps, files and processes capped)", async () => {
    const socket = statSync(join(cli.home, "agentiso.sock"));
    assert.equal(socket.mode & 0o777, 0o600);
    await cli.ok(["ws", "create", "--name", "limits"]);
    const limits = (await exec("limits", "cat /proc/self/limits")).stdout;
    assert.match(limits, /^Max core file size\s+0\s+0\s/m);
    const daemonHardNofile = Number(/^Max open files\s+\d+\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"))![1]);
    const nofile = /^Max open files\s+(\d+)\s+(\d+)/m.exec(limits)!;
    assert.equal(Number(nofile[2]), Math.min(65536, daemonHardNofile));
    assert.match(limits, /^Max processes\s+2048\s+2048\s/m, "twice the default pids limit (1024)");
    await cli.ok(["ws", "destroy", "limits"]);
  });
});

describe("QEMU of a vm workspace", { skip: requires(isRoot(), hasCommand("qemu-system-x86_64"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap")), timeout: 900_000 }, () => {
  test("runs under its seccomp sandbox as an unprivileged uid, from a memory-snapshot template too", async () => {
    await ensureImage("base");
    await using cli = new CliHarness({ AGENTISO_RUNTIME: "vm", AGENTISO_VM_ACCEL: "tcg" });
    // the first create saves a template (a migration out), the second restores it (a migration in):
    // both go through a socket QEMU reaches as its own uid
    for (const name of ["v1", "v2"]) {
      await cli.ok(["ws", "create", "--name", name]);
      assert.equal(await cli.ok(["ws", "exec", name, "--", "echo", "up"]), "up\n");
    }
    const qemus = readdirSync("/proc")
      .filter((pid) => /^\d+$/.test(pid))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(cli.home);
        } catch {
          return false;
        }
      })
      .filter((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("qemu-system"));
    assert.equal(qemus.length, 2, "one QEMU per workspace");
    for (const pid of qemus) {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      assert.match(status, /^Uid:\s+99999\s+99999\s+99999\s+99999$/m, "QEMU dropped root for vm.uid");
      assert.match(status, /^Seccomp:\s+2$/m, "QEMU runs under its seccomp filter");
      assert.match(status, /^CapEff:\s+0+$/m);
    }
  });
});
