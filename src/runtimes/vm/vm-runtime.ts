// The `vm` WorkspaceRuntime: one QEMU microVM per workspace. The guest boots Debian's cloud
// kernel with agentiso's initramfs (src/images/vm-boot), which mounts the workspace disk and
// starts the same guest agent the containers run, on a virtio-serial port whose host end is
// a unix socket in the run dir. QMP (qmp.sock) controls the machine. A network device only in
// egress mode, through a namespace shaped like a container's (vm-network.ts); the LLM and port
// forwards ride the agent's tunnels. Memory-snapshot templates (captureTemplate + fromTemplate,
// captured without a network device) turn a multi-second boot into a restore; saveMemory does it
// for snapshots.
import { LogRotation } from "../../core/log-rotation.js";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { readTail } from "../../core/read-tail.js";
import { AgentisoError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { assertValidName } from "../../core/names.js";
import type { ResourceTag } from "../../core/resource-tag.js";
import { withDeadline } from "../../core/deadline.js";
import { WorkspaceNetwork, type NetworkTraffic } from "../../net/workspace-network.js";
import { listCgroups, removeCgroup } from "../host-cgroups.js";
import type { MemorySaveSteps, NetworkMode, NetworkPolicy, PrerequisiteCheck, RuntimeInstance, RuntimeStartSpec, WorkspaceRuntime } from "../workspace-runtime.js";
import type { AccelSetting } from "./accel.js";
import { restoreMemorySnapshot, saveMemorySnapshot } from "./memory-snapshot.js";
import { saveRunningVm } from "./vm-memory-save.js";
import { QmpClient } from "./qmp-client.js";
import { buildQemuArgv } from "./qemu-command.js";
import { launchSpecFor } from "./vm-launch-spec.js";
import { bootUntilAgent, guestShutdown, warmUpAgent } from "./vm-agent-steps.js";
import { VmBootEnvironment } from "./vm-boot-environment.js";
import { createVmCgroup } from "./vm-cgroup.js";
import { checkVmPrerequisites } from "./vm-prerequisites.js";
import { argvNames, argvValue, findProcesses, isQemuOf, killQemu, launchQemu, processArgv, readPidFile } from "./vm-process.js";
import { vmPaths, type VmPaths } from "./vm-paths.js";
import { pauseVm, resumeVm, vmPaused } from "./vm-pause.js";
import { VmNetwork } from "./vm-network.js";

export interface VmRuntimeOptions {
  tag: ResourceTag;
  /** Where the guest kernel and initramfs are built and cached (next to the images). */
  bootCacheDir: string;
  /** dist/agentiso-guest.cjs: packed into the initramfs. */
  agentBundlePath: string;
  accel: AccelSetting;
  qemuBinary?: string;
  logger: Logger;
  /** Deadline for a cold boot to reach the agent; default 300 s (TCG with several VMs booting on 2 cores is slow). */
  bootTimeoutMs?: number;
  /** The unprivileged uid:gid QEMU drops to once set up (-runas, see qemu-command.ts). Unset: it stays root. */
  runAs?: { uid: number; gid: number };
  /** The serial console file (the guest writes it at will) rotates past this; default 8 MiB. */
  consoleLogBytes?: number;
  /** Egress mode: the same network (policy, rules) as containers get. */
  network?: WorkspaceNetwork;
}

const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export class VmRuntime implements WorkspaceRuntime {
  readonly kind = "vm" as const;
  readonly guestCachesWrites = true;
  readonly egressChosenAtStart = true; // no network device hot-plug (vm-network.ts)
  private readonly boot: VmBootEnvironment;
  /** Run dirs of the machines this object started or adopted (a running QEMU's argv also tells). */
  private readonly runDirs = new Map<string, string>();
  private readonly consoles: LogRotation;
  private readonly net: VmNetwork;

  constructor(private readonly options: VmRuntimeOptions) {
    this.net = new VmNetwork(options.network ?? new WorkspaceNetwork({ logger: options.logger }));
    this.consoles = new LogRotation({ maxBytes: options.consoleLogBytes ?? 8 * 1024 * 1024, keep: 1 }, options.logger);
    const { bootCacheDir, agentBundlePath, accel, logger } = options;
    this.boot = new VmBootEnvironment({ bootCacheDir, agentBundlePath, accel, logger, qemuBinary: this.qemuBinary });
  }

  // QEMU's -name, its cgroup's name: tag.name("ws", id).
  resourceName(workspaceId: string): string {
    return this.options.tag.name("ws", assertValidName(workspaceId, "workspace id"));
  }

  async check(): Promise<PrerequisiteCheck[]> {
    return checkVmPrerequisites({
      qemuBinary: this.qemuBinary,
      accelSetting: this.options.accel,
      agentBundlePath: this.options.agentBundlePath,
      bootFiles: () => this.boot.guestBootFiles(),
      accel: () => this.boot.resolvedAccel(),
    });
  }

  // Boots cold (or resumes a template) and resolves once the agent has opened its port.
  async start(spec: RuntimeStartSpec): Promise<RuntimeInstance> {
    const paths = await this.prepare(spec);
    const signal = withDeadline(this.bootTimeoutMs, spec.signal);
    try {
      await using qmp = await this.launch(spec, paths, signal);
      if (spec.fromTemplate) await restoreMemorySnapshot(qmp, spec.fromTemplate.memoryPath, { signal, timeoutMs: this.bootTimeoutMs, ...this.qemuUser });
      else await bootUntilAgent(qmp, spec.workspaceId, paths, { signal, timeoutMs: this.bootTimeoutMs, logger: this.options.logger });
      const pid = (await readPidFile(paths.pidFile))!;
      this.consoles.guard(paths.consoleLog);
      this.options.logger.info("workspace vm started", { workspace: spec.workspaceId, pid, fromTemplate: spec.fromTemplate !== undefined });
      return this.instance(spec.workspaceId, pid, paths, {
        hostname: spec.hostname,
        ...(spec.fromTemplate && { syncClock: true, reseedEntropy: true }),
      });
    } catch (err) {
      await this.stop(spec.workspaceId, { timeoutMs: 0 }).catch((cleanupErr: unknown) =>
        this.options.logger.error("cleanup after failed vm start failed", { workspace: spec.workspaceId, err: cleanupErr }),
      );
      throw err;
    }
  }

  // Cold-boots spec, waits for the agent, saves the machine to memoryPath and ends it.
  async captureTemplate(spec: RuntimeStartSpec, memoryPath: string): Promise<{ sizeBytes: number; durationMs: number }> {
    const paths = await this.prepare(spec);
    const signal = withDeadline(this.bootTimeoutMs, spec.signal);
    try {
      await using qmp = await this.launch(spec, paths, signal);
      await bootUntilAgent(qmp, spec.workspaceId, paths, { signal, timeoutMs: this.bootTimeoutMs, logger: this.options.logger });
      await warmUpAgent(qmp, paths, { signal, timeoutMs: this.bootTimeoutMs });
      const saved = await saveMemorySnapshot(qmp, memoryPath, { signal, timeoutMs: this.bootTimeoutMs, ...this.qemuUser });
      await qmp.execute("quit").catch(() => {});
      this.options.logger.info("vm template saved", { workspace: spec.workspaceId, memoryPath, ...saved });
      return saved;
    } finally {
      await this.stop(spec.workspaceId, { timeoutMs: 0 });
      this.runDirs.delete(spec.workspaceId);
    }
  }

  // Saves the running machine while the engine snapshots its disk; it runs on (vm-memory-save.ts).
  async saveMemory(workspaceId: string, memoryPath: string, steps: MemorySaveSteps): Promise<{ sizeBytes: number; durationMs: number }> {
    const signal = withDeadline(this.bootTimeoutMs, steps.signal);
    await using qmp = await QmpClient.connect(await this.qmpSocketOf(workspaceId), { signal });
    return await saveRunningVm(qmp, workspaceId, memoryPath, steps, { signal, timeoutMs: this.bootTimeoutMs, ...this.qemuUser });
  }

  async templateCompatibility(): Promise<string> {
    return `${await this.boot.resolvedAccel()}-${(await this.boot.guestBootFiles()).hash.slice(0, 16)}`;
  }

  // Asks the agent to shut down (the guest syncs and powers off); SIGKILL when that does not end QEMU in time.
  async stop(workspaceId: string, options: { timeoutMs?: number } = {}): Promise<void> {
    const name = this.resourceName(workspaceId);
    const runDir = await this.runDirOf(workspaceId);
    if (runDir) this.consoles.unguard(vmPaths(runDir).consoleLog);
    const pids = await this.pidsOf(name, runDir);
    const timeoutMs = options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    // a paused guest cannot shut itself down: let it run again first
    if (timeoutMs > 0 && runDir && pids.length > 0 && (await vmPaused(vmPaths(runDir).qmpSocket).catch(() => false))) {
      await resumeVm(vmPaths(runDir).qmpSocket).catch((err: unknown) => this.options.logger.warn("could not resume a paused vm before stopping it", { workspace: workspaceId, err }));
    }
    for (const pid of pids) {
      const graceful = timeoutMs > 0 && runDir !== undefined && (await guestShutdown(vmPaths(runDir), pid, timeoutMs));
      if (!graceful) await killQemu(pid);
    }
    await this.net.teardown(name);
    const left = await removeCgroup(name);
    if (left.length > 0) throw new AgentisoError("BACKEND_FAILED", `cgroups of vm workspace ${workspaceId} could not be removed: ${left.join(", ")}`);
    if (runDir) await this.removeSockets(vmPaths(runDir));
    if (pids.length > 0) this.options.logger.info("workspace vm stopped", { workspace: workspaceId });
  }

  // After a daemon restart: the machine is ours if the pid file names a live QEMU with our -name.
  async adopt(workspaceId: string, runDir: string): Promise<RuntimeInstance | undefined> {
    const paths = vmPaths(runDir);
    const pid = await readPidFile(paths.pidFile);
    if (pid === undefined || !(await isQemuOf(pid, this.resourceName(workspaceId)))) return undefined;
    this.runDirs.set(workspaceId, runDir);
    this.consoles.guard(paths.consoleLog);
    return this.instance(workspaceId, pid, paths);
  }

  // QMP stop: the vCPUs halt, QEMU keeps the memory (vm-pause.ts).
  async pause(workspaceId: string): Promise<void> {
    await pauseVm(await this.qmpSocketOf(workspaceId));
  }

  async resume(workspaceId: string): Promise<{ clockStopped: boolean }> {
    await resumeVm(await this.qmpSocketOf(workspaceId));
    return { clockStopped: true }; // the guest's clock stood still with its vCPUs
  }

  async isPaused(workspaceId: string): Promise<boolean> {
    return vmPaused(await this.qmpSocketOf(workspaceId));
  }

  // Live only for a VM started in egress (vm-network.ts: no hot-plug on microvm).
  async setNetwork(workspaceId: string, mode: NetworkMode, policy?: NetworkPolicy): Promise<void> {
    const runDir = await this.runDirOf(workspaceId);
    if (!runDir || (await this.pidsOf(this.resourceName(workspaceId), runDir)).length === 0) throw new AgentisoError("INVALID_STATE", `vm workspace ${workspaceId} is not running: start it first`);
    await this.net.switch(workspaceId, this.resourceName(workspaceId), mode, vmPaths(runDir).slirpLog, policy);
  }

  networkTraffic(workspaceId: string): Promise<NetworkTraffic | undefined> {
    return this.net.traffic(this.resourceName(workspaceId));
  }

  // The tail of the serial console: kernel messages, agentiso-init lines, the agent's log.
  async logs(workspaceId: string, options: { maxBytes?: number } = {}): Promise<string> {
    return readTail(await this.logFile(workspaceId), options.maxBytes ?? 64 * 1024);
  }

  async logFile(workspaceId: string): Promise<string> {
    const runDir = await this.runDirOf(workspaceId);
    if (!runDir) throw new AgentisoError("NOT_FOUND", `no logs for vm workspace ${workspaceId}: it was not started by this engine`);
    return vmPaths(runDir).consoleLog;
  }

  // Workspace ids with a QEMU process or a cgroup under this engine's tag.
  async listInstances(): Promise<string[]> {
    const prefix = this.options.tag.name("ws", "");
    const owns = (n: string) => n.startsWith(prefix) && n.length > prefix.length;
    const processes = await findProcesses((argv) => argvNames(argv).some(owns));
    const names = new Set([...(await listCgroups(owns)), ...(await this.net.list(owns))]);
    for (const pid of processes) {
      for (const n of argvNames(await processArgv(pid)).filter(owns)) names.add(n);
    }
    return [...names].map((n) => n.slice(prefix.length)).sort();
  }

  // ---- internals ----

  private get bootTimeoutMs(): number {
    return this.options.bootTimeoutMs ?? 300_000;
  }

  private get qemuUser(): { qemuUser?: { uid: number; gid: number } } {
    return this.options.runAs ? { qemuUser: this.options.runAs } : {};
  }

  private get qemuBinary(): string {
    return this.options.qemuBinary ?? "qemu-system-x86_64";
  }

  private async prepare(spec: RuntimeStartSpec): Promise<VmPaths> {
    if (spec.fromTemplate && spec.network !== "none") throw new AgentisoError("INVALID_INPUT", "memory templates hold no network device: a vm workspace in egress mode boots cold");
    if (spec.rootfs.kind !== "block") throw new AgentisoError("UNSUPPORTED", "the vm runtime boots a disk image, not a directory rootfs: create the workspace with runtime vm so storage hands out a disk");
    const disk = await stat(spec.rootfs.path).catch(() => undefined);
    if (!disk) throw new AgentisoError("NOT_FOUND", `disk image ${spec.rootfs.path} does not exist`);
    const name = this.resourceName(spec.workspaceId);
    const paths = vmPaths(spec.runDir);
    const running = await this.pidsOf(name, spec.runDir);
    if (running.length > 0) throw new AgentisoError("CONFLICT", `workspace ${spec.workspaceId} is already running`);
    await mkdir(spec.runDir, { recursive: true });
    this.runDirs.set(spec.workspaceId, spec.runDir);
    await this.removeSockets(paths);
    await rm(paths.pidFile, { force: true });
    return paths;
  }

  // Starts QEMU paused in its cgroup and connects QMP; the caller resumes it (cont or restore).
  private async launch(spec: RuntimeStartSpec, paths: VmPaths, signal: AbortSignal): Promise<QmpClient> {
    const name = this.resourceName(spec.workspaceId);
    const [boot, accel] = await Promise.all([this.boot.guestBootFiles(), this.boot.resolvedAccel()]);
    const launch = await launchSpecFor(spec, paths, { name, boot, accel, resolver: this.net.resolver, ...(this.options.runAs && { runAs: this.options.runAs }) });
    const inNamespace = await this.net.prepare(name, spec.network, paths.slirpLog, spec.networkPolicy);
    const argv = [...inNamespace, ...buildQemuArgv(launch, this.qemuBinary), "-S"];
    await writeFile(paths.launchFile, JSON.stringify(argv, null, 1));
    const cgroupProcs = await createVmCgroup(name, launch.memoryMiB, spec.resources, accel);
    await launchQemu(argv, { cgroupProcs, pidFile: paths.pidFile, logPath: paths.qemuLog, signal });
    return QmpClient.connect(paths.qmpSocket, { signal });
  }

  // The live QEMU pids of a workspace: from its pid file, else by -name (a lost run dir).
  private async pidsOf(name: string, runDir?: string): Promise<number[]> {
    const fromFile = runDir ? await readPidFile(vmPaths(runDir).pidFile) : undefined;
    if (fromFile !== undefined && (await isQemuOf(fromFile, name))) return [fromFile];
    return findProcesses((argv) => argvNames(argv).includes(name));
  }

  // Known from start/adopt, else read off the running QEMU's -pidfile argument.
  private async runDirOf(workspaceId: string): Promise<string | undefined> {
    const known = this.runDirs.get(workspaceId);
    if (known) return known;
    const [pid] = await this.pidsOf(this.resourceName(workspaceId));
    const pidFile = pid === undefined ? undefined : argvValue(await processArgv(pid), "-pidfile");
    return pidFile === undefined ? undefined : dirname(pidFile);
  }

  private async qmpSocketOf(workspaceId: string): Promise<string> {
    const runDir = await this.runDirOf(workspaceId);
    if (!runDir) throw new AgentisoError("INVALID_STATE", `vm workspace ${workspaceId} is not running`);
    return vmPaths(runDir).qmpSocket;
  }

  private async removeSockets(paths: VmPaths): Promise<void> {
    await Promise.all([rm(paths.agentSocket, { force: true }), rm(paths.qmpSocket, { force: true })]);
  }

  private instance(workspaceId: string, pid: number, paths: VmPaths, configure?: RuntimeInstance["endpoint"]["configure"]): RuntimeInstance {
    return { workspaceId, runtime: "vm", pid, endpoint: { kind: "unix", path: paths.agentSocket, singleStream: true, ...(configure && { configure }) } };
  }
}

