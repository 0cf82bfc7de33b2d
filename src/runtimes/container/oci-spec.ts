// Builds the OCI runtime spec (config.json) of one workspace: pure, so unit tests can check
// every isolation property without starting anything. What isolates what is documented in
// docs/runtime-container.md; the short version: a user namespace maps root inside to an
// unprivileged host uid range, own pid/mount/ipc/uts/net/cgroup namespaces, a Docker-like
// capability set without NET_ADMIN/SYS_ADMIN, a seccomp denylist, no_new_privs,
// Docker's masked and read-only paths, cgroup limits (an IO weight where the host weighs IO),
// rlimits for what cgroups do not bound per process, and tini as PID 1 to reap zombies.
import { AgentisoError } from "../../core/errors.js";
import type { WorkspaceResources } from "../workspace-runtime.js";
import type { SeccompProfile } from "./seccomp-profile.js";

/** Paths inside the workspace where the runtime puts its own files. */
export const GUEST_PATHS = {
  dir: "/.agentiso",
  tini: "/.agentiso/tini",
  agent: "/.agentiso/agent.cjs",
  /** The host's node binary when the agent runs with it (see WorkspaceSpecInput.hostNodePath). */
  node: "/.agentiso/node",
  /** The host's loader and node's libraries when the agent runs on the host's node (host-node-libs.ts). */
  libs: "/.agentiso/lib",
  /** The agent's startup snapshot for that node (see agent-snapshot.ts). */
  agentSnapshot: "/.agentiso/agent.snapshot.blob",
  runDir: "/.agentiso/run",
  /** Shared host tools (e.g. opencode): /.agentiso/bin/<name>. */
  bin: "/.agentiso/bin",
  socket: "/.agentiso/run/agent.sock",
} as const;

/**
 * Docker's default set minus MKNOD (no device nodes: there is nothing a workspace may reach
 * through one) and NET_RAW (no packet forging in the shared egress path). Never NET_ADMIN
 * (it could undo the egress filter) nor SYS_ADMIN (mounts). All relative to the workspace's
 * own user namespace: none of them is a capability on the host.
 */
export const WORKSPACE_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
  "CAP_SETFCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

/** Docker's masked paths: host information and kernel knobs a workspace has no business reading. */
export const MASKED_PATHS: readonly string[] = [
  "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
];

/** Masked (reads as empty) when the agent runs on the host's node; the workspace's own programs see it empty too. */
export const LD_SO_PRELOAD = "/etc/ld.so.preload";

export const READONLY_PATHS: readonly string[] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

export interface IdMapping {
  /** First host uid/gid that root inside maps to. */
  hostId: number;
  size: number;
}

export interface WorkspaceSpecInput {
  rootfsPath: string;
  hostname: string;
  resources: WorkspaceResources;
  /** Absolute cgroup path, e.g. "/ais3f9a2c-ws-w1" (flat: runc leaves nested parents behind). */
  cgroupsPath: string;
  idMapping: IdMapping;
  /** Host files bind-mounted read-only into GUEST_PATHS. */
  tiniPath: string;
  /**
   * Host executables shared read-only by every workspace at /.agentiso/bin/<name>: one file,
   * so one page cache for all workers (a copy in each fork's rootfs is a separate inode each).
   */
  sharedTools?: Record<string, string>;
  agentBundlePath: string;
  /** Host directory (owned by the shifted root) that holds the agent's socket. */
  agentRunDir: string;
  nodePathInGuest: string;
  /**
   * A host node binary to run the agent with instead of nodePathInGuest, bind-mounted read-only
   * at GUEST_PATHS.node: one page cache for every workspace, and a node with a startup snapshot
   * (Debian's node 18 has none and takes ~100 ms of CPU to boot; the host's node 20 ~25 ms).
   */
  hostNodePath?: string;
  /** With hostNodePath: the agent's V8 startup snapshot built by that binary, bind-mounted read-only. */
  agentSnapshotPath?: string;
  /**
   * With hostNodePath: the host's loader and node's libraries, bind-mounted read-only at
   * GUEST_PATHS.libs; node then starts through that loader, never the workspace's (and
   * /etc/ld.so.preload is masked), so no library of the workspace is loaded into it.
   */
  hostNodeLibs?: { dir: string; loader: string };
  /** Host files bind-mounted read-only over /etc/hosts and /etc/resolv.conf. */
  hostsFile: string;
  resolvConfFile: string;
  annotations?: Record<string, string>;
  /** The daemon's own hard rlimits (readHardLimits): a workspace's may not exceed them (no CAP_SYS_RESOURCE on the host). */
  hostHardLimits?: HardLimits;
  /** cgroup blkio/io weight (10-1000), only where the host's IO scheduler weighs (BFQ/CFQ): workspaces yield IO to the host. */
  blkioWeight?: number;
}

/** Hard limits by OCI rlimit type; Infinity = unlimited. */
export type HardLimits = Partial<Record<"RLIMIT_NOFILE" | "RLIMIT_NPROC" | "RLIMIT_CORE", number>>;

export interface OciRlimit {
  type: string;
  soft: number;
  hard: number;
}

/**
 * What cgroups do not bound per process: open files (a process holding a million fds pins
 * kernel memory), core dumps (none: a crash's memory stays in the workspace, and no host core
 * handler runs on its behalf), and processes per uid inside — twice the pids limit, so the
 * pids cgroup (which counts every task of the workspace and records each refusal) is what trips;
 * this is the bound where a host has no pids controller. (Before Linux 5.14 the count was per
 * host uid, shared by every workspace: there it is a shared ceiling of twice one workspace's.)
 */
export const WORKSPACE_RLIMITS: Readonly<Record<keyof HardLimits, number | "2x pids">> = { RLIMIT_NOFILE: 65536, RLIMIT_NPROC: "2x pids", RLIMIT_CORE: 0 };

interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

const HOSTNAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const CPU_PERIOD_US = 100_000;

// Returns the config.json object for `runc run`; throws INVALID_INPUT on an unusable spec.
export function buildWorkspaceSpec(input: WorkspaceSpecInput, seccomp: SeccompProfile): Record<string, unknown> {
  validate(input);
  const caps = [...WORKSPACE_CAPABILITIES];
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      // tini reaps zombies (with `sleep` as PID 1 they filled the pids limit) and forwards SIGTERM
      args: [GUEST_PATHS.tini, "-s", "--", ...agentCommand(input), "--listen", `unix:${GUEST_PATHS.socket}`],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8", "TERM=xterm"],
      cwd: "/",
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: workspaceRlimits(input.resources.pidsLimit, input.hostHardLimits ?? {}),
      noNewPrivileges: true,
    },
    root: { path: input.rootfsPath, readonly: false },
    hostname: input.hostname,
    mounts: mounts(input),
    annotations: input.annotations ?? {},
    linux: {
      uidMappings: [{ containerID: 0, hostID: input.idMapping.hostId, size: input.idMapping.size }],
      gidMappings: [{ containerID: 0, hostID: input.idMapping.hostId, size: input.idMapping.size }],
      // runc creates the network namespace (owned by the workspace's user namespace, so sysfs
      // can be mounted); the runtime then names it with `ip netns attach` for slirp and nft.
      namespaces: ["pid", "network", "ipc", "uts", "mount", "user", "cgroup"].map((type) => ({ type })),
      cgroupsPath: input.cgroupsPath,
      resources: { ...resources(input.resources), ...(input.blkioWeight !== undefined && { blockIO: { weight: input.blkioWeight } }) },
      seccomp,
      // ld.so reads /etc/ld.so.preload whatever its options: the host's node must not load the workspace's choice
      maskedPaths: input.hostNodeLibs ? [...MASKED_PATHS, LD_SO_PRELOAD] : [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}

// soft = hard = the wanted value, never above the daemon's own hard limit (raising one needs a host capability).
export function workspaceRlimits(pidsLimit: number, hostHard: HardLimits): OciRlimit[] {
  return Object.entries(WORKSPACE_RLIMITS).map(([type, wanted]) => {
    const value = Math.min(wanted === "2x pids" ? 2 * pidsLimit : wanted, hostHard[type as keyof HardLimits] ?? Infinity);
    return { type, soft: value, hard: value };
  });
}

// node and the agent: the guest's node, the host's, or the host's from the agent's startup snapshot
// (the bundle path stays in argv so the agent sees the same process.argv either way).
function agentCommand(input: WorkspaceSpecInput): string[] {
  if (!input.hostNodePath) return [input.nodePathInGuest, GUEST_PATHS.agent];
  const snapshot = input.agentSnapshotPath ? ["--snapshot-blob", GUEST_PATHS.agentSnapshot] : [];
  const libs = input.hostNodeLibs;
  // the host's ld.so: no ld.so.cache, node's libraries from the read-only copy only
  const loader = libs ? [`${GUEST_PATHS.libs}/${libs.loader}`, "--inhibit-cache", "--library-path", GUEST_PATHS.libs] : [];
  return [...loader, GUEST_PATHS.node, ...snapshot, GUEST_PATHS.agent];
}

function resources(r: WorkspaceResources): Record<string, unknown> {
  const memoryBytes = r.memoryMiB * 1024 * 1024;
  return {
    devices: [{ allow: false, access: "rwm" }],
    // swap equal to memory: no swap, so a hog is OOM-killed instead of thrashing the host
    memory: { limit: memoryBytes, swap: memoryBytes },
    pids: { limit: r.pidsLimit },
    cpu: { quota: Math.round(r.cpus * CPU_PERIOD_US), period: CPU_PERIOD_US },
  };
}

function mounts(input: WorkspaceSpecInput): OciMount[] {
  const ro = (source: string, destination: string): OciMount => ({ destination, type: "bind", source, options: ["rbind", "ro", "nosuid", "nodev"] });
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ro(input.tiniPath, GUEST_PATHS.tini),
    ro(input.agentBundlePath, GUEST_PATHS.agent),
    ...(input.hostNodePath ? [ro(input.hostNodePath, GUEST_PATHS.node)] : []),
    ...(input.hostNodePath && input.agentSnapshotPath ? [ro(input.agentSnapshotPath, GUEST_PATHS.agentSnapshot)] : []),
    ...(input.hostNodePath && input.hostNodeLibs ? [ro(input.hostNodeLibs.dir, GUEST_PATHS.libs)] : []),
    ...Object.entries(input.sharedTools ?? {}).map(([name, hostPath]) => ro(hostPath, `${GUEST_PATHS.bin}/${name}`)),
    { destination: GUEST_PATHS.runDir, type: "bind", source: input.agentRunDir, options: ["rbind", "rw", "nosuid", "nodev", "noexec"] },
    ro(input.hostsFile, "/etc/hosts"),
    ro(input.resolvConfFile, "/etc/resolv.conf"),
  ];
}

function validate(input: WorkspaceSpecInput): void {
  const bad = (what: string) => new AgentisoError("INVALID_INPUT", `invalid workspace spec: ${what}`);
  if (!HOSTNAME_PATTERN.test(input.hostname)) throw bad(`hostname ${JSON.stringify(input.hostname)} (use letters, digits and inner dashes)`);
  const { memoryMiB, cpus, pidsLimit } = input.resources;
  if (!(Number.isInteger(memoryMiB) && memoryMiB >= 16)) throw bad(`memoryMiB ${memoryMiB} (an integer >= 16)`);
  if (!(cpus > 0 && cpus <= 1024)) throw bad(`cpus ${cpus} (more than 0)`);
  if (!(Number.isInteger(pidsLimit) && pidsLimit >= 8)) throw bad(`pidsLimit ${pidsLimit} (an integer >= 8)`);
  if (!input.cgroupsPath.startsWith("/")) throw bad(`cgroupsPath ${input.cgroupsPath} must be absolute`);
  if (input.idMapping.hostId <= 0 || input.idMapping.size < 65536) throw bad("uid shift must map 65536 ids to an unprivileged host range");
  if (input.blkioWeight !== undefined && !(Number.isInteger(input.blkioWeight) && input.blkioWeight >= 10 && input.blkioWeight <= 1000)) throw bad(`blkioWeight ${input.blkioWeight} (10-1000)`);
  for (const [name, path] of Object.entries(input.sharedTools ?? {})) {
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name)) throw bad(`shared tool name ${JSON.stringify(name)}`);
    if (!path.startsWith("/")) throw bad(`path ${path} must be absolute`);
  }
  if (input.hostNodeLibs && !/^ld-[a-z0-9_.-]+$/i.test(input.hostNodeLibs.loader)) throw bad(`loader name ${JSON.stringify(input.hostNodeLibs.loader)}`);
  for (const path of [input.rootfsPath, input.tiniPath, input.agentBundlePath, input.agentRunDir, input.hostsFile, input.resolvConfFile, input.hostNodePath ?? "/", input.agentSnapshotPath ?? "/", input.hostNodeLibs?.dir ?? "/"]) {
    if (!path.startsWith("/")) throw bad(`path ${path} must be absolute`);
  }
}
