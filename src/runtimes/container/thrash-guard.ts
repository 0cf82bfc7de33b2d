// Watches every running container workspace's memory cgroup and ends thrashing the kernel
// does not end (see thrash-detector.ts): after a window of thrashing at the limit it SIGKILLs
// the largest process in the workspace, never its init or agent — what the kernel's OOM
// killer would have chosen, minutes sooner. The killed command's exec reports 137, as for an
// OOM kill. Like systemd-oomd, which does the same from PSI, but from counters cgroup v1 has too.
import type { Logger } from "../../core/logger.js";
import { commandOf, MemoryCgroup, oldestChild } from "./memory-cgroup.js";
import { chooseVictim, DEFAULT_THRASH_POLICY, ThrashDetector, type ProcessMemory, type ThrashPolicy } from "./thrash-detector.js";

export interface ThrashKill {
  workspaceId: string;
  pid: number;
  command: string;
  residentBytes: number;
  limitBytes: number;
}

export interface ThrashGuardOptions {
  logger: Logger;
  policy?: ThrashPolicy;
  /** How often each cgroup is sampled. */
  intervalMs?: number;
  /** Told after each kill (the runtime notes it in the workspace's log). */
  onKill?: (kill: ThrashKill) => void;
}

interface Watched {
  workspaceId: string;
  cgroup: MemoryCgroup;
  detector: ThrashDetector;
  /** Init and the agent: killing either would end the workspace, not the thrash. */
  protectedPids: Set<number>;
}

export class ThrashGuard {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(private readonly options: ThrashGuardOptions) {}

  // Starts watching a running workspace (its cgroup name and init's host pid); a cgroup without a memory controller is not watched.
  async watch(workspaceId: string, cgroupName: string, initPid: number): Promise<void> {
    const cgroup = await MemoryCgroup.find(cgroupName);
    if (!cgroup) {
      this.options.logger.warn("no memory cgroup to watch for thrashing", { workspace: workspaceId, cgroup: cgroupName });
      return;
    }
    const agentPid = await oldestChild(initPid);
    const protectedPids = new Set([initPid, ...(agentPid === undefined ? [] : [agentPid])]);
    this.watched.set(workspaceId, { workspaceId, cgroup, detector: new ThrashDetector(this.options.policy ?? DEFAULT_THRASH_POLICY), protectedPids });
    // unref: a watched workspace never keeps the daemon (or a test) alive
    this.timer ??= setInterval(() => void this.tick(), this.options.intervalMs ?? 500).unref();
  }

  unwatch(workspaceId: string): void {
    this.watched.delete(workspaceId);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  // One pass over every watched cgroup; a pass still running (a slow /proc) makes the next one skip.
  async tick(nowMs = performance.now()): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await Promise.all([...this.watched.values()].map((w) => this.check(w, nowMs)));
    } finally {
      this.ticking = false;
    }
  }

  private async check(w: Watched, nowMs: number): Promise<void> {
    const sample = await w.cgroup.sample().catch(() => undefined);
    if (!sample) return this.unwatch(w.workspaceId); // the cgroup is gone: the workspace stopped
    if (!w.detector.observe(sample, nowMs)) return;
    w.detector.reset();
    const victim = chooseVictim(await w.cgroup.processes().catch((): ProcessMemory[] => []), w.protectedPids);
    if (!victim) {
      this.options.logger.warn("workspace thrashes at its memory limit but only its agent runs", { workspace: w.workspaceId });
      return;
    }
    const command = await commandOf(victim.pid);
    // Node 20 has no pidfd (pidfd_open/pidfd_send_signal), so the kill goes by pid: right before
    // it, make sure the pid still names the process chosen (same start time) in this workspace's
    // cgroup. What is left is the time between that read and kill(2) — the victim would have to
    // exit and its pid be handed to a new process within it — and even then only a process of
    // the same cgroup could be hit, unless the pid wrapped into a host process in that instant.
    if (!(await w.cgroup.stillHolds(victim))) return; // it exited meanwhile, or the pid is someone else's now
    try {
      process.kill(victim.pid, "SIGKILL");
    } catch {
      return; // it exited meanwhile
    }
    const kill = { workspaceId: w.workspaceId, pid: victim.pid, command, residentBytes: victim.residentBytes, limitBytes: sample.limitBytes };
    this.options.logger.warn("killed a process thrashing at its workspace's memory limit", { ...kill });
    this.options.onKill?.(kill);
  }
}
