// What a ContainerRuntime (container-runtime.ts) is built with: one per engine (state dir).
import type { Logger } from "../../core/logger.js";
import type { ResourceTag } from "../../core/resource-tag.js";
import type { WorkspaceNetwork } from "../../net/workspace-network.js";
import type { IdMapping } from "./oci-spec.js";
import type { OciRuntimePreference } from "./oci-runtime-choice.js";
import type { ThrashKill } from "./thrash-guard.js";

export interface ContainerRuntimeOptions {
  stateDir: string;
  tag: ResourceTag;
  /** dist/agentiso-guest.cjs: bind-mounted read-only and started by tini. */
  agentBundlePath: string;
  nodePathInGuest?: string;
  /**
   * A host node binary to run the agent with (shared read-only; see oci-spec.ts hostNodePath);
   * a rootfs where it cannot run (musl, an old glibc) falls back to nodePathInGuest. Unset: the guest's node.
   * The agent's code pages are then the host's, not charged to the workspace; measured: a node
   * memory hog at a 96 MiB limit then thrashed on its own code pages (reclaim kept succeeding,
   * so the kernel never OOM-killed it) for 10 min — the thrash guard (thrash-guard.ts) ends that.
   */
  hostNodePath?: string;
  /** Root inside maps to base..base+size-1 on the host; the rootfs must be chowned to match. */
  uidShift?: IdMapping;
  tiniPath?: string;
  /** Which OCI runtime starts containers (oci-runtime-choice.ts); default "auto": crun where it can, else runc. */
  ociRuntime?: OciRuntimePreference;
  logger: Logger;
  /** Readiness deadline of start(); default 30 s (Node takes 0.1-0.5 s to start inside). */
  startTimeoutMs?: number;
  network?: WorkspaceNetwork;
  /** Told after the thrash guard killed a process (the daemon counts it in its metrics). */
  onThrashKill?: (kill: ThrashKill) => void;
  /** How long a workspace may thrash at its memory limit before its largest process is killed (thrash-guard.ts); 0 = never. Default 5 s. */
  thrashKillMs?: number;
  /** Host executables every workspace sees read-only at /.agentiso/bin/<name>. */
  sharedTools?: Record<string, string>;
  /** console.log (tini's stdout, writable from inside through /proc/1/fd/1) rotates past this; default 8 MiB. */
  consoleLogBytes?: number;
}
