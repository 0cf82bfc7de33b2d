// Background jobs belong to the agent, not to a connection: they survive the client that
// started them, are found by id, and keep only the tail of their output (ring buffer).
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import type { JobInfo } from "../protocol/index.js";
import { RingBuffer } from "./output-buffer.js";
import { killGroup } from "./process-group.js";
import { WireError } from "./wire-error.js";

export const DEFAULT_JOB_RING_BYTES = 256 * 1024;
const MAX_FINISHED_JOBS = 256;

export interface Job {
  jobId: string;
  command: string;
  child: ChildProcessWithoutNullStreams;
  startedAtMs: number;
  stdout: RingBuffer;
  stderr: RingBuffer;
  exitCode: number | null;
  signal: string | null;
  running: boolean;
  timedOut: boolean;
  /** Called after new output and once the job ended (followers). */
  watchers: Set<() => void>;
}

/** Background jobs by id, shared by all connections. */
export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  private nextId = 1;

  // Tracks a started child; its output goes to ring buffers of ringBytes each. After
  // timeoutMs its process group is killed (timedOut in its info).
  add(child: ChildProcessWithoutNullStreams, command: string, ringBytes: number, timeoutMs?: number): JobInfo {
    const job: Job = {
      jobId: `job-${this.nextId++}`, command, child, startedAtMs: Date.now(), exitCode: null, signal: null, running: true,
      timedOut: false, stdout: new RingBuffer(ringBytes), stderr: new RingBuffer(ringBytes), watchers: new Set(),
    };
    const notify = () => job.watchers.forEach((watcher) => watcher());
    child.stdout.on("data", (chunk: Buffer) => (job.stdout.push(chunk), notify()));
    child.stderr.on("data", (chunk: Buffer) => (job.stderr.push(chunk), notify()));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => ((job.timedOut = true), killGroup(child.pid)), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      job.running = false;
      job.exitCode = code;
      job.signal = signal;
      notify();
      this.forgetOldFinished();
    });
    this.jobs.set(job.jobId, job);
    return describe(job, false);
  }

  /** The job itself, for a follower (job_follow); NOT_FOUND when unknown. */
  find(jobId: string): Job {
    return this.get(jobId);
  }

  poll(jobId: string): JobInfo {
    return describe(this.get(jobId), true);
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((job) => describe(job, false));
  }

  // Signals the job's whole process group; a finished job is left alone.
  kill(jobId: string, signal: NodeJS.Signals): JobInfo {
    const job = this.get(jobId);
    if (job.running) killGroup(job.child.pid, signal);
    return describe(job, false);
  }

  killAll(): void {
    for (const job of this.jobs.values()) if (job.running) killGroup(job.child.pid, "SIGKILL");
  }

  private get(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new WireError("NOT_FOUND", `no job ${JSON.stringify(jobId)} (job_list shows the known ones)`);
    return job;
  }

  private forgetOldFinished(): void {
    const finished = [...this.jobs.values()].filter((job) => !job.running);
    for (const job of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_JOBS))) this.jobs.delete(job.jobId);
  }
}

export function describe(job: Job, withOutput: boolean): JobInfo {
  const info: JobInfo = {
    jobId: job.jobId, command: job.command, pid: job.child.pid ?? -1, running: job.running, exitCode: job.exitCode,
    signal: job.signal, startedAtMs: job.startedAtMs, truncated: job.stdout.truncated || job.stderr.truncated,
    ...(job.timedOut && { timedOut: true }),
  };
  if (withOutput) {
    info.stdout = job.stdout.text();
    info.stderr = job.stderr.text();
  }
  return info;
}
