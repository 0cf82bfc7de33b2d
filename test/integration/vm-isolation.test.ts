// Escape attempts as root inside a VM workspace (QEMU microVM under TCG). Root there owns a
// whole kernel, so the boundary is the machine: no host filesystem is shared, there is no
// network device at all, and the only disk is the workspace's own. Every attempt must fail.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { hostAddresses } from "../../src/net/host-addresses.js";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { startHostServer, type HostServer } from "../support/runtime-fake-internet.js";

const skip = requires(isRoot(), hasCommand("qemu-system-x86_64"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));

describe("isolation of a vm workspace", { skip, timeout: 900_000 }, () => {
  let cli: CliHarness;
  let loopbackServer: HostServer;
  let anyServer: HostServer;
  let hostSleeper: ChildProcess;
  const secret = `secret-${randomBytes(6).toString("hex")}`;
  let secretPath: string;

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness({ AGENTISO_RUNTIME: "vm", AGENTISO_VM_ACCEL: "tcg" });
    secretPath = `${cli.home}/${secret}`;
    await writeFile(secretPath, secret);
    loopbackServer = await startHostServer("127.0.0.1");
    anyServer = await startHostServer("0.0.0.0");
    hostSleeper = spawn("sleep", ["600", secret], { stdio: "ignore" });
    await cli.ok(["ws", "create", "--name", "a"]);
    await cli.ok(["ws", "create", "--name", "b"]);
  });
  after(async () => {
    hostSleeper?.kill("SIGKILL");
    await loopbackServer?.close();
    await anyServer?.close();
    await rm(secretPath, { force: true });
    await cli?.[Symbol.asyncDispose]();
  });

  const sh = (workspace: string, script: string) => cli.run(["ws", "exec", workspace, "--", "sh", "-c", script]);
  const fails = async (script: string) => {
    const result = await sh("a", script);
    assert.notEqual(result.code, 0, `succeeded inside the vm: ${script}\n${result.stdout}`);
    return result;
  };

  test("it is its own machine: its own kernel, root is uid 0 with every capability, PID 1 is the workspace's init", async () => {
    assert.equal((await sh("a", "id -u")).stdout, "0\n");
    const init = await sh("a", "tr '\\0' ' ' < /proc/1/cmdline");
    assert.match(init.stdout, /tini|init/);
    assert.match((await sh("a", "uname -r")).stdout, /cloud-amd64/);
  });

  test("no host file is reachable: no shared filesystem, the only disk is the workspace's", async () => {
    await fails(`cat ${secretPath}`);
    const found = await sh("a", `grep -rl '${secret}' / --exclude-dir=proc --exclude-dir=sys 2>/dev/null; true`);
    assert.equal(found.stdout, "");
    const filesystems = (await sh("a", "cut -d' ' -f3 /proc/mounts | sort -u")).stdout.split("\n").filter(Boolean);
    for (const shared of ["9p", "virtiofs", "nfs", "fuse", "cifs"]) assert.ok(!filesystems.includes(shared), `${shared} is mounted inside`);
    const disks = (await sh("a", "ls /sys/block")).stdout.split(/\s+/).filter((d) => d && !/^(loop|ram|zram)\d+$/.test(d));
    assert.deepEqual(disks, ["vda"]);
  });

  test("host processes are invisible", async () => {
    // the bracket keeps grep from matching its own command line
    await fails(`grep -l '${secret.slice(0, -1)}[${secret.slice(-1)}]' /proc/[0-9]*/cmdline`);
  });

  test("there is no network device, so the host's 127.0.0.1 and its other addresses are unreachable", async () => {
    const links = (await sh("a", "ls /sys/class/net")).stdout.split(/\s+/).filter(Boolean);
    assert.deepEqual(links, ["lo"]);
    await fails(`curl -sS --max-time 3 http://127.0.0.1:${loopbackServer.port}/`);
    await fails(`curl -sS --max-time 3 http://10.0.2.2:${anyServer.port}/`);
    for (const address of hostAddresses().v4) await fails(`curl -sS --max-time 3 http://${address}:${anyServer.port}/`);
  });

  test("even with every capability, root cannot bring up a network or reach the host through devices", async () => {
    await fails("ip link add dummy0 type dummy && ip addr add 10.0.2.15/24 dev dummy0 && ip link set dummy0 up && curl -sS --max-time 3 http://10.0.2.2:1/");
    await fails("test -e /dev/kvm || test -e /dev/vhost-vsock");
  });

  test("two workspaces resumed from the same memory template draw different random bytes and have the host's clock", async () => {
    const [ra, rb] = await Promise.all([sh("a", "head -c 32 /dev/urandom | od -An -tx1"), sh("b", "head -c 32 /dev/urandom | od -An -tx1")]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.notEqual(ra.stdout, rb.stdout, "the restored guests share their random state");
    const guestSeconds = Number((await sh("a", "date +%s")).stdout.trim());
    assert.ok(Math.abs(guestSeconds - Date.now() / 1000) < 30, `the guest clock is ${guestSeconds}, the host's ${Math.round(Date.now() / 1000)}`);
  });

  test("another vm workspace is unreachable and invisible", async () => {
    const marker = `b-server-${randomBytes(3).toString("hex")}`;
    const server = `node -e 'require("http").createServer((q, s) => s.end("B")).listen(8081, () => require("fs").writeFileSync("/tmp/${marker}", ""))' >/dev/null 2>&1 &`;
    await sh("b", `${server} until [ -e /tmp/${marker} ]; do sleep 0.05; done`);
    assert.equal((await sh("b", "curl -sS --max-time 3 http://127.0.0.1:8081/")).stdout, "B", "B's server answers inside B");
    await fails("curl -sS --max-time 3 http://127.0.0.1:8081/");
    await fails(`test -e /tmp/${marker}`);
  });
});
