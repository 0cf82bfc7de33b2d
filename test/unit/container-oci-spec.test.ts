import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { GUEST_PATHS, LD_SO_PRELOAD, MASKED_PATHS, WORKSPACE_CAPABILITIES, type WorkspaceSpecInput } from "../../src/runtimes/container/oci-spec.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { toHostname } from "../../src/runtimes/container/hostname.js";
import { SPEC_INPUT as input, specWith as spec } from "../support/oci-spec-input.js";

describe("workspace OCI spec", () => {
  test("shared host tools are bind-mounted read-only at /.agentiso/bin/<name>, and odd names are refused", () => {
    const mounts = spec({ sharedTools: { opencode: "/opt/agentiso/opencode" } }).mounts as Array<{ destination: string; source: string; options: string[] }>;
    const mount = mounts.find((m) => m.destination === `${GUEST_PATHS.bin}/opencode`);
    assert.equal(mount?.source, "/opt/agentiso/opencode");
    assert.ok(mount?.options.includes("ro"));
    assert.throws(() => spec({ sharedTools: { "../x": "/opt/x" } }), (err) => isAgentisoError(err, "INVALID_INPUT"));
    assert.throws(() => spec({ sharedTools: { tool: "relative/path" } }), (err) => isAgentisoError(err, "INVALID_INPUT"));
  });

  test("root inside maps to the unprivileged host range for both uids and gids", () => {
    const { linux } = spec();
    assert.deepEqual(linux.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
    assert.deepEqual(linux.gidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
  });

  test("the workspace gets its own user, pid, mount, ipc, uts, network and cgroup namespaces", () => {
    const types = spec().linux.namespaces.map((ns: { type: string; path?: string }) => (ns.path ? `${ns.type}@${ns.path}` : ns.type));
    assert.deepEqual([...types].sort(), ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"]);
  });

  test("capabilities never include NET_ADMIN, SYS_ADMIN, SYS_PTRACE, SYS_MODULE or MKNOD", () => {
    const { capabilities } = spec().process;
    for (const set of ["bounding", "effective", "permitted"]) {
      for (const cap of ["CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_MKNOD", "CAP_SYS_RAWIO", "CAP_SYS_TIME"]) {
        assert.ok(!capabilities[set].includes(cap), `${cap} in ${set}`);
      }
      assert.deepEqual(capabilities[set], [...WORKSPACE_CAPABILITIES]);
    }
    assert.equal(capabilities.ambient, undefined);
    assert.equal(spec().process.noNewPrivileges, true);
  });

  test("/proc/sys is read-only and Docker's masked paths are masked", () => {
    const { linux } = spec();
    assert.ok(linux.readonlyPaths.includes("/proc/sys"));
    assert.ok(linux.readonlyPaths.includes("/proc/sysrq-trigger"));
    for (const path of ["/proc/kcore", "/proc/keys", "/sys/firmware"]) assert.ok(linux.maskedPaths.includes(path));
    assert.deepEqual(linux.maskedPaths, [...MASKED_PATHS]);
  });

  test("memory, pids and cpu limits come from the requested resources, with no swap", () => {
    const { resources } = spec().linux;
    assert.deepEqual(resources.memory, { limit: 512 * 1024 * 1024, swap: 512 * 1024 * 1024 });
    assert.deepEqual(resources.pids, { limit: 256 });
    assert.deepEqual(resources.cpu, { quota: 150_000, period: 100_000 });
    assert.deepEqual(resources.devices, [{ allow: false, access: "rwm" }]);
  });

  test("tini is PID 1 and starts the agent on the bind-mounted socket directory", () => {
    const { process: proc, mounts } = spec();
    assert.deepEqual(proc.args, ["/.agentiso/tini", "-s", "--", "/usr/bin/node", "/.agentiso/agent.cjs", "--listen", "unix:/.agentiso/run/agent.sock"]);
    const byDest = new Map(mounts.map((m: { destination: string }) => [m.destination, m]));
    assert.deepEqual(byDest.get(GUEST_PATHS.tini), { destination: "/.agentiso/tini", type: "bind", source: "/usr/bin/tini-static", options: ["rbind", "ro", "nosuid", "nodev"] });
    assert.equal((byDest.get(GUEST_PATHS.agent) as { source: string }).source, input.agentBundlePath);
    assert.ok((byDest.get(GUEST_PATHS.agent) as { options: string[] }).options.includes("ro"));
    assert.equal((byDest.get(GUEST_PATHS.runDir) as { source: string }).source, input.agentRunDir);
  });

  test("the host's node starts through the host's loader and libraries, read-only, with /etc/ld.so.preload masked", () => {
    const libs = { dir: "/var/lib/agentiso/host-node/libs-0123", loader: "ld-linux-x86-64.so.2" };
    const { process: proc, mounts, linux } = spec({ hostNodePath: "/usr/bin/node", hostNodeLibs: libs });
    assert.deepEqual(proc.args.slice(3, 9), ["/.agentiso/lib/ld-linux-x86-64.so.2", "--inhibit-cache", "--library-path", "/.agentiso/lib", "/.agentiso/node", "/.agentiso/agent.cjs"]);
    const lib = mounts.find((m: { destination: string }) => m.destination === GUEST_PATHS.libs);
    assert.deepEqual(lib, { destination: "/.agentiso/lib", type: "bind", source: libs.dir, options: ["rbind", "ro", "nosuid", "nodev"] });
    assert.ok(linux.maskedPaths.includes(LD_SO_PRELOAD));
    assert.ok(!spec().linux.maskedPaths.includes(LD_SO_PRELOAD), "the image's own node keeps the workspace's preload: it is the workspace's program");
    assert.throws(() => spec({ hostNodePath: "/usr/bin/node", hostNodeLibs: { ...libs, loader: "../ld.so" } }), (err) => isAgentisoError(err, "INVALID_INPUT"));
  });

  test("sysfs and the cgroup tree are mounted read-only", () => {
    const { mounts } = spec();
    for (const dest of ["/sys", "/sys/fs/cgroup"]) {
      const mount = mounts.find((m: { destination: string }) => m.destination === dest);
      assert.ok(mount.options.includes("ro"), dest);
    }
  });

  test("the seccomp profile is attached and the cgroup path is the absolute tagged name", () => {
    const { linux } = spec();
    assert.equal(linux.seccomp.defaultAction, "SCMP_ACT_ALLOW");
    assert.equal(linux.cgroupsPath, "/ais123456-ws-w1");
  });

  test("unusable input is refused with INVALID_INPUT before runc sees it", () => {
    const bad: Array<Partial<WorkspaceSpecInput>> = [
      { hostname: "-bad" },
      { hostname: "a_b" },
      { resources: { memoryMiB: 4, cpus: 1, pidsLimit: 64 } },
      { resources: { memoryMiB: 256, cpus: 0, pidsLimit: 64 } },
      { resources: { memoryMiB: 256, cpus: 1, pidsLimit: 0 } },
      { cgroupsPath: "relative" },
      { idMapping: { hostId: 0, size: 65536 } },
      { rootfsPath: "relative/rootfs" },
    ];
    for (const overrides of bad) {
      assert.throws(() => spec(overrides), (err: unknown) => isAgentisoError(err, "INVALID_INPUT"), JSON.stringify(overrides));
    }
  });
});

describe("workspace hostnames", () => {
  test("workspace names with _ and . become valid hostnames, and nothing becomes empty", () => {
    assert.equal(toHostname("my_ws.v2"), "my-ws-v2");
    assert.equal(toHostname("w1"), "w1");
    assert.equal(toHostname("___"), "workspace");
    assert.equal(toHostname("a".repeat(80)).length, 63);
    for (const name of ["my_ws.v2", "-x-", "A.B"]) assert.doesNotThrow(() => spec({ hostname: toHostname(name) }));
  });
});
