// Escape attempts as root inside a workspace, in both network modes and under each OCI runtime
// this host can use (crun, runc). Every one must fail, and where the target is on the host, the
// host must be unchanged afterwards.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { connectUnix, GuestClient } from "../../src/guest/index.js";
import { hostAddresses } from "../../src/net/host-addresses.js";
import { cgroupHierarchies } from "../../src/runtimes/host-cgroups.js";
import { runDirPaths } from "../../src/runtimes/container/run-dir.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { RuntimeHarness, type StartedWorkspace } from "../support/runtime-harness.js";
import { ociRuntimesToTest } from "../support/oci-runtimes.js";
import { startHostServer, type HostServer } from "../support/runtime-fake-internet.js";

const skip = requires(hasCommand("runc"), hasCommand("slirp4netns"), hasCommand("nft"), hasCommand("mmdebstrap"), isRoot());

// x86-64 syscall numbers, called directly with perl so no libc wrapper or missing tool hides the result.
const SYSCALLS_X64: Record<string, number> = { bpf: 321, keyctl: 250, add_key: 248, kexec_load: 246, init_module: 175, open_by_handle_at: 304, ptrace: 101, mount: 165, setns: 308 };

for (const [oci, mode] of (await ociRuntimesToTest()).flatMap((o) => (["none", "egress"] as const).map((m) => [o, m] as const))) {
  describe(`isolation of a workspace in network mode ${mode} under ${oci.name}`, { skip: skip || oci.skip }, () => {
    let harness: RuntimeHarness;
    let a: StartedWorkspace;
    let b: StartedWorkspace;
    let loopbackServer: HostServer;
    let anyServer: HostServer;
    let hostSleeper: ChildProcess;
    let hostV4: string[];
    const secret = `secret-${randomBytes(6).toString("hex")}`;
    let secretPath: string;

    before(async () => {
      harness = await RuntimeHarness.create({ ociRuntime: oci.name });
      secretPath = `${harness.stateDir}/${secret}`;
      await writeFile(secretPath, secret);
      loopbackServer = await startHostServer("127.0.0.1");
      anyServer = await startHostServer("0.0.0.0");
      hostSleeper = spawn("sleep", ["600"], { stdio: "ignore" });
      // read before the workspaces start: the filter covers the addresses that existed when egress was set
      hostV4 = hostAddresses().v4;
      a = await harness.start({ network: mode, name: "a" });
      b = await harness.start({ network: mode, name: "b" });
    });
    after(async () => {
      hostSleeper?.kill("SIGKILL");
      await loopbackServer?.close();
      await anyServer?.close();
      await rm(secretPath, { force: true });
      assert.deepEqual(await harness.close(), []);
    });

    const fails = async (script: string) => {
      const result = await harness.sh(a.id, script);
      assert.notEqual(result.exitCode, 0, `succeeded inside the workspace: ${script}\n${result.stdout}`);
      return result;
    };

    test("writing to /proc/sys fails and the host's values are unchanged", async () => {
      // core_pattern is host-wide: a "|program" there runs as host root on the next crash
      const corePattern = "/proc/sys/kernel/core_pattern";
      const before = await readFile(corePattern, "utf8");
      try {
        await fails(`echo '|/tmp/pwn' > ${corePattern}`);
        await fails("echo 1 > /proc/sys/net/ipv4/ip_forward");
        await fails("sysctl -w kernel.domainname=pwned");
        await fails("echo b > /proc/sysrq-trigger");
      } finally {
        const after = await readFile(corePattern, "utf8");
        if (after !== before) await writeFile(corePattern, before);
        assert.equal(after, before, "the workspace changed the host's core_pattern");
      }
    });

    test("host processes are invisible and cannot be signalled", async () => {
      const pid = hostSleeper.pid!;
      const seen = await harness.sh(a.id, "ls /proc | grep -c '^[0-9]'");
      assert.ok(Number(seen.stdout) < 10, `saw ${seen.stdout.trim()} processes`);
      await fails(`kill -9 ${pid}`);
      await fails(`test -e /proc/${pid}/cmdline && grep -q sleep /proc/${pid}/cmdline`);
      assert.equal(hostSleeper.exitCode, null);
      assert.equal(hostSleeper.signalCode, null);
      process.kill(pid, 0);
    });

    test("mount, mknod, new user namespaces and the dangerous syscalls fail", async () => {
      await fails("mount -t tmpfs none /mnt");
      await fails("mount -o remount,rw /sys/fs/cgroup");
      await fails("mknod /root/disk b 254 0");
      await fails("mknod /root/mem c 1 1");
      await fails("unshare -Ur true");
      await fails("unshare -m true");
      await fails("ls -d /dev/vd* /dev/sd* /dev/nvme* /dev/mem /dev/kmsg 2>/dev/null");
      if (process.arch === "x64") {
        for (const [name, nr] of Object.entries(SYSCALLS_X64)) {
          const r = await harness.sh(a.id, `perl -e 'my $r = syscall(${nr}, 0, 0, 0, 0, 0); print "$r $!"; exit($r == -1 && ($!{EPERM} || $!{EINVAL} || $!{EFAULT} || $!{ENOSYS}) ? 0 : 1)'`);
          assert.equal(r.exitCode, 0, `${name}: ${r.stdout} ${r.stderr}`);
        }
        // seccomp answers EPERM for these before the kernel even looks at the arguments
        for (const name of ["bpf", "keyctl", "kexec_load", "open_by_handle_at", "mount", "setns"]) {
          const r = await harness.sh(a.id, `perl -e 'syscall(${SYSCALLS_X64[name]}, 0, 0, 0, 0, 0); exit($!{EPERM} ? 0 : 1)'`);
          assert.equal(r.exitCode, 0, `${name} was not denied by seccomp`);
        }
      }
    });

    test("host files outside the workspace cannot be read", async () => {
      await fails(`cat ${secretPath}`);
      await fails(`cat /proc/1/root${secretPath}`);
      const found = await harness.sh(a.id, `find / -xdev -name '${secret}' 2>/dev/null; grep -rl '${secret}' /root /etc /tmp /var 2>/dev/null`);
      assert.equal(found.stdout, "");
      const status = await harness.sh(a.id, "grep CapEff /proc/self/status");
      const capEff = BigInt(`0x${status.stdout.split(/\s+/)[1]}`);
      for (const [cap, bit] of [["CAP_DAC_READ_SEARCH", 2n], ["CAP_NET_ADMIN", 12n], ["CAP_SYS_MODULE", 16n], ["CAP_SYS_PTRACE", 19n], ["CAP_SYS_ADMIN", 21n], ["CAP_MKNOD", 27n]] as const) {
        assert.equal((capEff >> bit) & 1n, 0n, `${cap} is effective inside`);
      }
    });

    test("init's stdio gives the workspace no host file: the console log cannot be reopened for writing, stdin is a pipe, /dev/null stays root's", async () => {
      const log = runDirPaths(a.runDir).consoleLog;
      const before = statSync(log);
      assert.equal(before.uid, 0, "the console log is host root's (crun hands init's stdio to the container's root; the runtime takes it back)");
      const write = await harness.sh(a.id, "echo planted > /proc/1/fd/1; echo planted >> /proc/1/fd/2");
      assert.notEqual(write.exitCode, 0);
      assert.match(write.stderr, /Permission denied/);
      assert.doesNotMatch(readFileSync(log, "utf8"), /planted/);
      // init's stdin must not be a host file either: crun would hand it to the workspace's root
      const devNull = statSync("/dev/null");
      assert.deepEqual([devNull.uid, devNull.gid, devNull.mode & 0o777], [0, 0, 0o666], "the host's /dev/null is still root's, mode 666");
      assert.equal((await harness.sh(a.id, "stat -L -c %F /proc/1/fd/0")).stdout.trim(), "fifo", "init's stdin is an empty pipe");
    });

    test("servers on the host's 127.0.0.1 and on its other addresses are unreachable", async () => {
      const curl = (url: string) => fails(`curl -sS --max-time 3 ${url}`);
      await curl(`http://127.0.0.1:${loopbackServer.port}/`);
      await curl(`http://10.0.2.2:${loopbackServer.port}/`);
      await curl(`http://10.0.2.2:${anyServer.port}/`);
      for (const address of hostV4) await curl(`http://${address}:${anyServer.port}/`);
    });

    test("the workspace cannot raise its own cgroup limits", async () => {
      const pidsDir = (await cgroupHierarchies()).find((h) => h.endsWith("/pids"));
      const name = harness.runtime.resourceName(a.id);
      const beforeMax = await readFile(`${pidsDir}/${name}/pids.max`, "utf8");
      await fails("echo max > /sys/fs/cgroup/pids/pids.max");
      await fails("echo -1 > /sys/fs/cgroup/memory/memory.limit_in_bytes");
      await fails("echo -1 > /sys/fs/cgroup/cpu/cpu.cfs_quota_us || echo -1 > /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us");
      await fails("mkdir /sys/fs/cgroup/pids/escape");
      assert.equal(await readFile(`${pidsDir}/${name}/pids.max`, "utf8"), beforeMax);
    });

    test("swapping the agent socket for a symlink to a host socket does not redirect the host's connections", async () => {
      const hostSocket = `${harness.stateDir}/host-${randomBytes(3).toString("hex")}.sock`;
      let hostConnections = 0;
      const server = createServer((socket) => {
        hostConnections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(hostSocket, resolve));
      try {
        const swap = await harness.sh(a.id, `rm -f /.agentiso/run/agent.sock && ln -s ${hostSocket} /.agentiso/run/agent.sock`);
        assert.equal(swap.exitCode, 0, swap.stderr);
        await using client = new GuestClient({ connect: connectUnix(a.instance.endpoint.path) });
        assert.equal((await client.connect()).type, "hello");
        assert.equal(hostConnections, 0);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    test("another running workspace is unreachable and invisible", async () => {
      const marker = `b-server-${randomBytes(3).toString("hex")}`;
      const server = `node -e 'require("http").createServer((q, s) => s.end("B")).listen(8081, () => require("fs").writeFileSync("/tmp/${marker}", ""))' ${marker} >/dev/null 2>&1 &`;
      await harness.sh(b.id, `${server} until [ -e /tmp/${marker} ]; do sleep 0.05; done`);
      assert.equal((await harness.sh(b.id, "curl -sS --max-time 3 http://127.0.0.1:8081/")).stdout, "B", "B's server answers inside B");
      await fails("curl -sS --max-time 3 http://127.0.0.1:8081/");
      await fails("curl -sS --max-time 3 http://10.0.2.100:8081/");
      // the bracket keeps grep from matching its own command line
      await fails(`grep -l '${marker.slice(0, -1)}[${marker.slice(-1)}]' /proc/[0-9]*/cmdline`);
      await fails(`test -e /tmp/${marker}`);
      await fails(`ls ${b.runDir}`);
    });
  });
}
