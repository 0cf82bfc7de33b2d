// The contract every runtime fulfils: `container` (runc, user namespace, cgroups) and `vm`
// (QEMU microvm). Both run the same guest agent and expose it the same way: a unix socket
// on the host that carries the agent protocol (docs/protocol.md). The engine sees only this.
import type { NetworkMode, NetworkPolicy } from "../core/network-allowlist.js";
import type { RootfsHandle } from "../storage/storage-driver.js";
import type { NetworkTraffic } from "../net/workspace-network.js";

export type { NetworkMode, NetworkPolicy, NetworkTraffic };
export type RuntimeKind = "container" | "vm";

export interface WorkspaceResources {
  memoryMiB: number;
  cpus: number;
  pidsLimit: number;
}

/** Where the host reaches the agent. */
export interface GuestEndpoint {
  kind: "unix";
  path: string;
  /**
   * True when the transport is ONE byte stream (virtio-serial): the host keeps a single
   * connection and multiplexes every request over it. False: connect as often as needed.
   */
  singleStream: boolean;
  /**
   * What the host must tell the agent once connected: a VM restored from a memory template
   * wakes with the template's hostname, a clock stopped at save time and the template's RNG
   * state. Only on the instance start() returns.
   */
  configure?: { hostname?: string; syncClock?: boolean; reseedEntropy?: boolean };
}

export interface RuntimeStartSpec {
  /** Stable workspace id; host resource names derive from it and the engine's ResourceTag. */
  workspaceId: string;
  hostname: string;
  rootfs: RootfsHandle;
  resources: WorkspaceResources;
  network: NetworkMode;
  /** The whole policy (its allow and deny lists) when network is allowlist. */
  networkPolicy?: NetworkPolicy;
  /** Host directory owned by the runtime for this workspace (sockets, logs, pid files). */
  runDir: string;
  /** Resume a saved, booted machine instead of booting (runtimes with captureTemplate only). */
  fromTemplate?: { memoryPath: string };
  signal?: AbortSignal;
}

/** What the engine does around a runtime's memory save (WorkspaceRuntime.saveMemory). */
export interface MemorySaveSteps {
  detachHost(): Promise<boolean>;
  atSameInstant(): Promise<void>;
  signal?: AbortSignal;
}

export interface RuntimeInstance {
  workspaceId: string;
  runtime: RuntimeKind;
  /** Host pid of the workspace's init (container) or QEMU process. */
  pid: number;
  endpoint: GuestEndpoint;
  /**
   * Set when start() returned before the agent listens (a container: it returns once its init
   * runs, as `podman run -d` does, and the agent's node start overlaps the caller's next step).
   * Resolves once the endpoint accepts connections, with the pid of the init that answered (a
   * start that fell back to the guest's node has a new one); rejects when it never will — the
   * runtime has then removed what it started. Unset: start() resolved with the agent ready.
   */
  ready?: Promise<{ pid: number }>;
}

export interface PrerequisiteCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to run when it is missing. */
  fix?: string;
}

export interface WorkspaceRuntime {
  readonly kind: RuntimeKind;

  /** What this machine has and lacks for this runtime, with fixes. */
  check(): Promise<PrerequisiteCheck[]>;

  /**
   * True when the guest keeps written data in its own page cache (a VM kernel): the engine
   * has the agent `sync` before a storage snapshot so the snapshot holds what was written.
   */
  readonly guestCachesWrites: boolean;

  /**
   * Boots the workspace and resolves once the guest agent is ready — for a socket transport,
   * when the endpoint accepts connections; for a single-stream transport, once the agent has
   * opened its port — or, with RuntimeInstance.ready, once the workspace runs. The engine's
   * guest client then performs the version handshake itself.
   */
  start(spec: RuntimeStartSpec): Promise<RuntimeInstance>;

  /** Graceful shutdown, then a hard kill after timeoutMs. Frees every host resource but the rootfs. */
  stop(workspaceId: string, options?: { timeoutMs?: number }): Promise<void>;

  /** After a daemon restart: the instance if it is still running (re-attached), else undefined. */
  adopt(workspaceId: string, runDir: string): Promise<RuntimeInstance | undefined>;

  /**
   * True when egress must be chosen before start (a microVM gets its network device only at
   * start): a running workspace started in `none` cannot switch to egress (INVALID_STATE), one
   * started in egress switches both ways. Absent or false: setNetwork works live in every case.
   */
  readonly egressChosenAtStart?: boolean;

  /** Switch a running workspace between loopback-only, NATed egress and an allowlist (policy given for allowlist). */
  setNetwork(workspaceId: string, mode: NetworkMode, policy?: NetworkPolicy): Promise<void>;

  /** Optional: what the network policy counted (admitted and refused connections, DNS names), undefined without a network. */
  networkTraffic?(workspaceId: string): Promise<NetworkTraffic | undefined>;

  /** Console/agent log tail for `workspace logs`. */
  logs(workspaceId: string, options?: { maxBytes?: number }): Promise<string>;

  /** The host file that log is (rotated in place past its cap), for following it as it grows. */
  logFile(workspaceId: string): Promise<string>;

  /** Ids of every instance under this engine's tag, running or left behind (for orphan reaping). */
  listInstances(): Promise<string[]>;

  /**
   * Optional (vm): boots `spec` cold, waits for the agent, saves the whole machine (memory and
   * devices) to memoryPath and ends it. The disk must not change afterwards: workspaces
   * started with `fromTemplate` run on forks of it taken right after this returns.
   */
  captureTemplate?(spec: RuntimeStartSpec, memoryPath: string): Promise<{ sizeBytes: number; durationMs: number }>;

  /**
   * Optional (vm): saves a RUNNING instance's whole machine (memory, devices) to memoryPath and
   * lets it run on. `steps.detachHost` is called first and closes the host's connection to the
   * agent (true when one was open), so the saved agent waits for a new host as a template's
   * does; `steps.atSameInstant` (the engine's disk snapshot) runs while the machine stands still
   * after the save, so the saved page cache and that disk agree. Restore it like a template
   * (`fromTemplate`) on a copy of that disk. UNSUPPORTED for a machine with a network device.
   */
  saveMemory?(workspaceId: string, memoryPath: string, steps: MemorySaveSteps): Promise<{ sizeBytes: number; durationMs: number }>;

  /** Optional (vm): a string that changes whenever saved templates can no longer be restored (accelerator, kernel, agent). */
  templateCompatibility?(): Promise<string>;

  /**
   * Optional: freezes every process of a running instance (no CPU, memory kept). A paused
   * instance stays paused across daemon restarts; stop() of a paused one resumes it first.
   */
  pause?(workspaceId: string): Promise<void>;

  /** Optional: thaws a paused instance. clockStopped: the guest's clock stood still meanwhile (a VM's) and lags now. */
  resume?(workspaceId: string): Promise<{ clockStopped: boolean }>;

  /**
   * Optional (container): gives a running instance a new hostname from the host, where the
   * guest may not set its own (a warm-pool workspace handed out under the caller's name).
   */
  rename?(instance: { workspaceId: string; pid: number; runDir: string }, hostname: string, signal?: AbortSignal): Promise<void>;

  /** Optional: whether a running instance is paused (reconcile after a restart). */
  isPaused?(workspaceId: string): Promise<boolean>;
}
