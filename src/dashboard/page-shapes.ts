// The shapes the dashboard's daemon side sends and its page reads: one definition for both
// (the page imports them as types only; nothing here runs).

/** One workspace as the page shows it (fields of the engine's record). */
export interface WorkspaceRow {
  name: string;
  state: string;
  runtime: string;
  image: string;
  network: string;
  memoryMiB: number;
  cpus: number;
  diskBytes: number;
  forkedFrom?: string;
  owner?: string;
  createdAt: string;
  error?: string;
  /** The next lifecycle deadline: what happens and when (ttl, or idle timeout since the last activity). */
  expires?: { reason: "ttl" | "idle"; action: string; at: string };
  /** Exposed ports: the workspace's port and the host address it is opened at. */
  ports?: Array<{ guestPort: number; address: string; active: boolean }>;
  /** Memory charged to its cgroup now, and CPU over the last few seconds (% of one core). */
  memoryBytes?: number;
  cpuPercent?: number;
  /** Disk used (the storage's own count: qgroup, zfs `used`, a VM disk's allocated size); absent when unknown. */
  diskUsedBytes?: number;
  /** The allow list's length when the network mode has one. */
  allowCount?: number;
}

export interface TaskSummary {
  name: string;
  state: string;
  worker?: string;
  startedMs: number;
  endedMs?: number;
  tokens: number;
  costUsd: number;
  last: string;
  timeline: Array<{ atMs: number; text: string }>;
  /** The branch the merge made of its patch (branch-per-task). */
  branch?: string;
}

export interface RunSummary {
  id: string;
  startedMs: number;
  endedMs?: number;
  state: "running" | "done" | "failed";
  stage: string;
  tasks: TaskSummary[];
  error?: string;
  reportPath?: string;
  /** agentiso/<run>/integrated when the run merged with `integrate`. */
  integratedBranch?: string;
  /** From an earlier daemon's run, read back from its report.json. */
  fromDisk?: boolean;
}

export interface TaskDetail {
  name: string;
  status: string;
  reason: string;
  summary: string;
  patch: string;
  patchTruncated: boolean;
  filesChanged: string[];
  toolCalls: Array<{ tool: string; status: string; title?: string; error?: string }>;
  /** The task's verify outcome as report.json has it. */
  verify?: { passed: boolean; attempts: number; command?: string; exitCode?: number | null; outputTail?: string };
  branch?: string;
}

/** opencode's transcript of one task (orchestrator/opencode/transcript.ts makes it). */
export interface TranscriptShape {
  entries: Array<{ kind: "text" | "tool" | "error" | "step" | "omitted"; text: string; tool?: string; status?: string; atMs?: number }>;
  omittedEntries: number;
  skippedBytes: number;
}

export interface SeriesSnapshot {
  /** unix seconds of each sample */
  t: number[];
  workspaces: number[];
  forksPerSecond: number[];
  execMs: Array<number | null>;
  tokensPerMinute: number[];
}
