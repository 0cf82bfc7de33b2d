// When a workspace thrashes at its memory limit. The kernel's memory-cgroup OOM killer acts
// only once reclaim frees nothing; a process at the limit whose own code pages are evicted
// and faulted straight back in keeps reclaim "succeeding", and runs at disk-read speed for
// minutes (measured here: a node hog in a 96 MiB workspace ran 10 min, until the exec
// timeout). The sign is a cgroup sitting at its limit while major faults keep coming.

export interface MemorySample {
  usageBytes: number;
  /** Infinity when the cgroup has no limit. */
  limitBytes: number;
  /** The cgroup's major page faults so far (a counter). */
  majorFaults: number;
}

export interface ThrashPolicy {
  /** How long thrashing must go on before the guard acts. */
  windowMs: number;
  /** Major faults per second that count as thrashing while at the limit. */
  majorFaultsPerSecond: number;
  /** "At the limit" means usage within this much of it (the kernel charges in per-CPU batches). */
  headroomBytes: number;
}

// 20 faults/s: a node hog thrashing on its code pages made 40-250/s; writing or re-reading files
// through read() at the limit makes none (page-cache misses on read() are not page faults), and
// the mmap'd stream tried made 4-12/s. Refaults and PSI stall did not tell these apart (both high).
export const DEFAULT_THRASH_POLICY: ThrashPolicy = { windowMs: 5_000, majorFaultsPerSecond: 20, headroomBytes: 4 * 1024 * 1024 };

// Fed one sample per tick; observe() turns true once every tick of the last windowMs was a thrashing one.
export class ThrashDetector {
  private previous: { atMs: number; majorFaults: number } | undefined;
  private thrashingSinceMs: number | undefined;

  constructor(private readonly policy: ThrashPolicy = DEFAULT_THRASH_POLICY) {}

  observe(sample: MemorySample, nowMs: number): boolean {
    const previous = this.previous;
    this.previous = { atMs: nowMs, majorFaults: sample.majorFaults };
    if (!previous || nowMs <= previous.atMs) return false;
    const faultsPerSecond = ((sample.majorFaults - previous.majorFaults) * 1000) / (nowMs - previous.atMs);
    const atLimit = sample.usageBytes >= sample.limitBytes - this.policy.headroomBytes;
    if (!atLimit || faultsPerSecond < this.policy.majorFaultsPerSecond) {
      this.thrashingSinceMs = undefined;
      return false;
    }
    // the thrash began somewhere in the interval just observed: count it from the previous sample
    this.thrashingSinceMs ??= previous.atMs;
    return nowMs - this.thrashingSinceMs >= this.policy.windowMs;
  }

  /** After the guard acted: the next kill needs a whole window of thrashing again. */
  reset(): void {
    this.thrashingSinceMs = undefined;
  }
}

export interface ProcessMemory {
  pid: number;
  /** Anonymous and shared memory: what the process is charged for and could give back by dying. */
  residentBytes: number;
  /** When it started (clock ticks since boot, /proc/PID/stat field 22): with the pid, which process this is. */
  startTicks?: number;
}

// The process to kill: the largest one that is not protected (the workspace's init and agent), if any.
export function chooseVictim(processes: readonly ProcessMemory[], protectedPids: ReadonlySet<number>): ProcessMemory | undefined {
  let victim: ProcessMemory | undefined;
  for (const p of processes) {
    if (protectedPids.has(p.pid)) continue;
    if (!victim || p.residentBytes > victim.residentBytes) victim = p;
  }
  return victim;
}
