// The `container` WorkspaceRuntime: an OCI runtime (crun or runc; oci-runtimes.ts) isolates (user
// namespace, cgroups, seccomp; oci-spec.ts),
// tini is PID 1, the guest agent listens on a unix socket in a directory bind-mounted from the
// run dir, src/net switches the network live. Host resources are named tag.name("ws", id); a
// thrash guard watches each memory cgroup; pause freezes the cgroup through the OCI runtime (memory kept).
import { join } from "node:path";
import { AgentisoError } from "../../core/errors.js";
import { readTail } from "../../core/read-tail.js";
import { LogRotation } from "../../core/log-rotation.js";
import { assertValidName } from "../../core/names.js";
import { withDeadline } from "../../core/deadline.js";
import { attachNetns, deleteNetns, listNetns, netnsExists } from "../../net/netns.js";
import { WorkspaceNetwork, type NetworkTraffic } from "../../net/workspace-network.js";
import type { NetworkMode, NetworkPolicy, PrerequisiteCheck, RuntimeInstance, RuntimeStartSpec, WorkspaceRuntime } from "../workspace-runtime.js";
import { listCgroups, removeCgroup } from "../host-cgroups.js";
import type { IdMapping } from "./oci-spec.js";
import { BundleWriter } from "./container-bundle.js";
import { checkContainerPrerequisites } from "./prerequisites.js";
import { HostNodePicker, type HostNode } from "./host-node-picker.js";
import { isRunning, waitForExit } from "../../core/process-state.js";
import type { OciCli } from "./oci-cli.js";
import { OciRuntimes } from "./oci-runtimes.js";
import { assertEndpoint, runDirPaths } from "./run-dir.js";
import { assertContainerRootfs } from "./rootfs-checks.js";
import { setLiveHostname, toHostname } from "./hostname.js";
import { launchContainer, type LaunchDeps, type Launched } from "./container-launch.js";
import { PendingStarts } from "./pending-starts.js";
import type { ContainerRuntimeOptions } from "./container-runtime-options.js";
import { noteThrashKill } from "./thrash-note.js";
import { ThrashGuard, type ThrashKill } from "./thrash-guard.js";
import { DEFAULT_THRASH_POLICY } from "./thrash-detector.js";

export type { ContainerRuntimeOptions } from "./container-runtime-options.js";

const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const DEFAULT_CONSOLE_LOG_BYTES = 8 * 1024 * 1024;

// One per engine (state dir); safe to construct again after a restart and adopt what runs.
export class ContainerRuntime implements WorkspaceRuntime {
  readonly kind = "container" as const;
  readonly guestCachesWrites = false;
  private readonly oci: OciRuntimes;
  private readonly network: WorkspaceNetwork;
  private readonly idMapping: IdMapping;
  private readonly runDirs = new Map<string, string>();
  private readonly hostNodes: HostNodePicker;
  private readonly thrashGuard: ThrashGuard | undefined;
  private readonly consoles: LogRotation;
  private readonly bundles: BundleWriter;
  private readonly starting = new PendingStarts();

  constructor(private readonly options: ContainerRuntimeOptions) {
    this.oci = new OciRuntimes(options.stateDir, options.ociRuntime ?? "auto", options.logger);
    this.hostNodes = new HostNodePicker({ hostNodePath: options.hostNodePath, agentBundlePath: options.agentBundlePath, libsDir: join(options.stateDir, "host-node") });
    const thrashKillMs = options.thrashKillMs ?? DEFAULT_THRASH_POLICY.windowMs;
    if (thrashKillMs > 0) {
      const policy = { ...DEFAULT_THRASH_POLICY, windowMs: thrashKillMs };
      this.thrashGuard = new ThrashGuard({ logger: options.logger, policy, onKill: (kill) => this.onThrashKill(kill) });
    }
    this.network = options.network ?? new WorkspaceNetwork({ logger: options.logger });
    this.idMapping = options.uidShift ?? { hostId: 100_000, size: 65_536 };
    this.bundles = new BundleWriter({
      idMapping: this.idMapping,
      tiniPath: this.tiniPath,
      agentBundlePath: options.agentBundlePath,
      nodePathInGuest: options.nodePathInGuest ?? "/usr/bin/node",
      ...(options.sharedTools && { sharedTools: options.sharedTools }),
    });
    this.consoles = new LogRotation({ maxBytes: options.consoleLogBytes ?? DEFAULT_CONSOLE_LOG_BYTES, keep: 1 }, options.logger);
  }

  // OCI container id, cgroup name and network namespace name of a workspace (one tagged name for all three).
  resourceName(workspaceId: string): string {
    return this.options.tag.name("ws", assertValidName(workspaceId, "workspace id"));
  }

  check(): Promise<PrerequisiteCheck[]> {
    const hostNode = this.options.hostNodePath === undefined ? {} : { hostNodePath: this.options.hostNodePath };
    return checkContainerPrerequisites({ ociRuntime: this.options.ociRuntime ?? "auto", tiniPath: this.tiniPath, agentBundlePath: this.options.agentBundlePath, ...hostNode });
  }

  // Starts the container and resolves once it runs; the instance's `ready` resolves once the
  // agent listens (container-launch.ts). On any failure everything it created is removed.
  async start(spec: RuntimeStartSpec): Promise<RuntimeInstance> {
    const name = this.resourceName(spec.workspaceId);
    await this.assertStartable(spec, name);
    const pending = new AbortController();
    const signal = AbortSignal.any([withDeadline(this.options.startTimeoutMs ?? 30_000, spec.signal), pending.signal]);
    const hostNode = await this.hostNodes.pick(spec.rootfs.path);
    let launched: Launched;
    try {
      launched = await launchContainer(this.launchDeps, spec, name, hostNode, signal);
    } catch (err) {
      await this.removeFailedStart(spec);
      if (!(await this.fallBackToGuestNode(spec, hostNode, err))) throw err;
      return this.start(spec);
    }
    this.runDirs.set(spec.workspaceId, spec.runDir);
    this.consoles.guard(launched.paths.consoleLog);
    await this.thrashGuard?.watch(spec.workspaceId, name, launched.pid);
    const ready = this.readiness(spec, launched, hostNode, pending);
    this.starting.track(spec.workspaceId, pending, ready);
    return { ...this.instance(spec.workspaceId, launched.pid, spec.runDir), ready };
  }

  // The agent's first listen; a failure removes the container (and a host node that could not
  // run there is retried as the guest's), unless stop() is what ended the wait.
  private async readiness(spec: RuntimeStartSpec, launched: Launched, hostNode: HostNode | undefined, pending: AbortController): Promise<{ pid: number }> {
    const stopped = () => new AgentisoError("GUEST_UNREACHABLE", `workspace ${spec.workspaceId} was stopped before its agent listened`);
    try {
      await launched.untilReady();
      if (pending.signal.aborted) throw stopped(); // listened just as the stop began: the stop wins
      return { pid: launched.pid };
    } catch (err) {
      if (pending.signal.aborted) throw stopped();
      this.starting.forget(spec.workspaceId, pending); // the cleanup's stop() must not wait for this wait
      await this.removeFailedStart(spec);
      if (!(await this.fallBackToGuestNode(spec, hostNode, err))) throw err;
      if (pending.signal.aborted) throw stopped();
      const again = await this.start(spec);
      return again.ready ?? { pid: again.pid };
    } finally {
      this.starting.forget(spec.workspaceId, pending);
    }
  }

  private async removeFailedStart(spec: RuntimeStartSpec): Promise<void> {
    this.runDirs.set(spec.workspaceId, spec.runDir);
    await this.stop(spec.workspaceId, { timeoutMs: 0 }).catch((err: unknown) => this.options.logger.error("cleanup after failed start failed", { workspace: spec.workspaceId, err }));
  }

  // True when the host's node could not run on this rootfs (musl, an older glibc): the guest's own node then.
  private async fallBackToGuestNode(spec: RuntimeStartSpec, hostNode: HostNode | undefined, err: unknown): Promise<boolean> {
    if (!(hostNode && err instanceof AgentisoError && err.code === "GUEST_UNREACHABLE")) return false;
    this.options.logger.warn("agent did not start with the host's node; retrying with the guest's", { workspace: spec.workspaceId, console: await this.logs(spec.workspaceId, { maxBytes: 500 }) });
    this.hostNodes.refuse(spec.rootfs.path);
    return true;
  }

  // SIGTERM to init (tini forwards it; a paused container is thawed first: frozen processes take no signal), then KILL
  // after timeoutMs; then frees the OCI runtime's state, slirp, netns and cgroups.
  async stop(workspaceId: string, options: { timeoutMs?: number } = {}): Promise<void> {
    await this.starting.interrupt(workspaceId);
    const name = this.resourceName(workspaceId);
    this.thrashGuard?.unwatch(workspaceId);
    const runDir = this.runDirs.get(workspaceId);
    if (runDir) this.consoles.unguard(runDirPaths(runDir).consoleLog);
    const { oci, state } = await this.oci.container(name);
    if (oci && state?.status === "paused") await oci.resume(name).catch((err: unknown) => this.options.logger.warn("could not resume a paused workspace before stopping it", { workspace: workspaceId, err }));
    if (oci && state && (await isRunning(state.pid))) {
      const timeoutMs = options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
      const graceful = timeoutMs > 0 && (await oci.kill(name, "TERM")) && (await waitForExit(state.pid, timeoutMs));
      if (!graceful) await oci.kill(name, "KILL", { all: true });
    }
    if (oci) await oci.delete(name);
    // slirp4netns and the DNS gate reach a namespace by its name: one never named had neither (no /proc scan, no spawn)
    if (await netnsExists(name)) {
      await this.network.teardown(name);
      await deleteNetns(name);
    }
    const left = await removeCgroup(name);
    if (left.length > 0) throw new AgentisoError("BACKEND_FAILED", `cgroups of workspace ${workspaceId} could not be removed: ${left.join(", ")}`);
    this.options.logger.info("workspace container stopped", { workspace: workspaceId });
  }

  // Finds a container this engine started before a restart; names its network namespace again if the name was lost.
  async adopt(workspaceId: string, runDir: string): Promise<RuntimeInstance | undefined> {
    const name = this.resourceName(workspaceId);
    const { state } = await this.oci.container(name);
    if (!state || (state.status !== "running" && state.status !== "paused") || !(await isRunning(state.pid))) return undefined;
    // without the host-side link made at start there is no trustworthy endpoint: let reconcile stop it
    const endpointOk = await assertEndpoint(runDirPaths(runDir).endpoint, this.idMapping.hostId).then(() => true, () => false);
    if (!endpointOk) {
      this.options.logger.warn("running workspace has no agent endpoint; not adopted", { workspace: workspaceId });
      return undefined;
    }
    await this.nameNetns(name, state.pid);
    this.runDirs.set(workspaceId, runDir);
    this.consoles.guard(runDirPaths(runDir).consoleLog);
    await this.thrashGuard?.watch(workspaceId, name, state.pid);
    return this.instance(workspaceId, state.pid, runDir);
  }

  rename(instance: { workspaceId: string; pid: number; runDir: string }, hostname: string, signal?: AbortSignal): Promise<void> {
    return setLiveHostname(instance.pid, this.resourceName(instance.workspaceId), runDirPaths(instance.runDir).hosts, toHostname(hostname), signal);
  }

  async pause(workspaceId: string): Promise<void> {
    const { name, oci } = await this.held(workspaceId);
    await oci.pause(name);
  }

  async resume(workspaceId: string): Promise<{ clockStopped: boolean }> {
    const { name, oci } = await this.held(workspaceId);
    await oci.resume(name);
    return { clockStopped: false }; // the host's clock: it never stood still
  }

  async isPaused(workspaceId: string): Promise<boolean> {
    return (await this.oci.container(this.resourceName(workspaceId))).state?.status === "paused";
  }

  // Switches a running workspace between loopback-only, filtered NAT egress and an allowlist.
  async setNetwork(workspaceId: string, mode: NetworkMode, policy?: NetworkPolicy): Promise<void> {
    const name = this.resourceName(workspaceId);
    const { state } = await this.oci.container(name);
    if (!state || (state.status !== "running" && state.status !== "paused")) throw new AgentisoError("INVALID_STATE", `workspace ${workspaceId} is not running: start it first`);
    await this.nameNetns(name, state.pid);
    await this.network.setMode(name, policy ?? mode, runDirPaths(state.bundle).slirpLog);
  }

  networkTraffic = (workspaceId: string): Promise<NetworkTraffic | undefined> => this.network.traffic(this.resourceName(workspaceId));

  // The tail of the agent's stdout/stderr (tini's console), kept in the run dir across restarts.
  async logs(workspaceId: string, options: { maxBytes?: number } = {}): Promise<string> {
    return readTail(await this.logFile(workspaceId), options.maxBytes ?? 64 * 1024);
  }

  async logFile(workspaceId: string): Promise<string> {
    const runDir = this.runDirs.get(workspaceId) ?? (await this.oci.container(this.resourceName(workspaceId))).state?.bundle;
    if (!runDir) throw new AgentisoError("NOT_FOUND", `no logs for workspace ${workspaceId}: it was not started by this engine`);
    return runDirPaths(runDir).consoleLog;
  }

  // Workspace ids with any resource under this engine's tag: OCI containers, network namespaces, cgroups.
  async listInstances(): Promise<string[]> {
    const prefix = this.options.tag.name("ws", "");
    const owns = (n: string) => n.startsWith(prefix) && n.length > prefix.length;
    const names = [...(await this.oci.list()).filter(owns), ...(await listNetns(owns)), ...(await listCgroups(owns))];
    return [...new Set(names.map((n) => n.slice(prefix.length)))].sort();
  }

  // Runs a command as root inside via `<oci runtime> exec` (diagnostics and tests; the engine talks to the agent).
  async exec(workspaceId: string, argv: readonly string[], options: { timeoutMs?: number; input?: string } = {}) {
    const { name, oci } = await this.held(workspaceId);
    return oci.exec(name, argv, options);
  }

  // Names the workspace's network namespace (made by the OCI runtime) after init's, unless it has its name:
  // a workspace started without a network, or one whose name a host change lost.
  private async nameNetns(name: string, pid: number): Promise<void> {
    if (!(await netnsExists(name))) await attachNetns(name, pid);
  }

  // The runtime holding the container of a workspace that must exist (no `state` spawn: the command itself says what is wrong).
  private async held(workspaceId: string): Promise<{ name: string; oci: OciCli }> {
    const name = this.resourceName(workspaceId);
    const oci = await this.oci.holding(name);
    if (!oci) throw new AgentisoError("INVALID_STATE", `workspace ${workspaceId} has no container: start it first`);
    return { name, oci };
  }

  private onThrashKill(kill: ThrashKill): void {
    this.options.onThrashKill?.(kill);
    const runDir = this.runDirs.get(kill.workspaceId);
    if (runDir) void noteThrashKill(runDirPaths(runDir).consoleLog, kill);
  }

  private get tiniPath(): string {
    return this.options.tiniPath ?? "/usr/bin/tini-static";
  }

  private get launchDeps(): LaunchDeps {
    const { bundles, oci, network, options } = this;
    return { bundles, oci, network, shiftedRoot: this.idMapping.hostId, logger: options.logger, logs: (id) => this.logs(id) };
  }

  private instance(workspaceId: string, pid: number, runDir: string): RuntimeInstance {
    return { workspaceId, runtime: "container", pid, endpoint: { kind: "unix", path: runDirPaths(runDir).endpoint, singleStream: false } };
  }

  private async assertStartable(spec: RuntimeStartSpec, name: string): Promise<void> {
    await assertContainerRootfs(spec.rootfs, this.idMapping.hostId);
    const { state: existing } = await this.oci.container(name);
    if (existing?.status === "running" || existing?.status === "paused") throw new AgentisoError("CONFLICT", `workspace ${spec.workspaceId} is already running`);
    if (existing) await this.stop(spec.workspaceId, { timeoutMs: 0 });
  }
}
