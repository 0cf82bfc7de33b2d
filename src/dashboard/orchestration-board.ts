// What the dashboard knows of orchestrations: built from the orchestrate operation's progress
// events (task_state, task_done, merge, ...) as they happen, bounded: the last MAX_RUNS runs,
// a short timeline per task, and patches up to PATCH_BUDGET_BYTES per run (the rest is in the
// run's report.json). Earlier runs (of this daemon or one before it) are listed by their
// summaries alone, up to MAX_LISTED in all. The summary (no patches, no transcripts) is the
// `orchestrations` topic; one task's detail is fetched when the page opens it.
import { randomBytes } from "node:crypto";
import type { RunSummary, TaskDetail, TaskSummary } from "./page-shapes.js";
import { branchesOf } from "./report-summary.js";

export const MAX_RUNS = 5;
export const MAX_LISTED = 10;
const MAX_TIMELINE = 30;
const PATCH_BUDGET_BYTES = 4 * 1024 * 1024;
const TEXT_CAP = 64 * 1024;

interface Run extends RunSummary {
  details: Map<string, TaskDetail>;
  patchBytes: number;
}

/** The parts of a progress event the board reads (the orchestrator's ProgressEvent). */
interface Progress {
  type?: string;
  task?: string;
  state?: string;
  worker?: string;
  tokens?: number;
  last?: string;
  step?: string;
  ok?: boolean;
  branch?: string;
  result?: Record<string, unknown>;
}

export class OrchestrationBoard {
  private readonly runs: Run[] = [];
  /** Runs known by summary only: those of earlier daemons, and live ones pushed out of `runs`. */
  private past: RunSummary[] = [];

  constructor(private readonly onChange: () => void, private readonly now: () => number = Date.now) {}

  // A new run; returns what takes its progress events and its end.
  begin(): { id: string; progress: (event: unknown) => void; end: (outcome: { error?: { message: string }; result?: unknown }) => void } {
    // unique across daemons: the run index keeps ids of earlier ones
    const id = `${new Date(this.now()).toISOString().slice(0, 19).replace(/\D/g, "")}-${randomBytes(3).toString("hex")}`;
    const run: Run = { id, startedMs: this.now(), state: "running", stage: "starting", tasks: [], details: new Map(), patchBytes: 0 };
    this.runs.unshift(run);
    for (const old of this.runs.splice(MAX_RUNS)) this.past.unshift(strip(old));
    this.past.splice(MAX_LISTED);
    this.onChange();
    return {
      id,
      progress: (event) => {
        this.apply(run, event as Progress);
        this.onChange();
      },
      end: (outcome) => {
        run.endedMs = this.now();
        run.state = outcome.error ? "failed" : "done";
        run.stage = outcome.error ? "failed" : "done";
        if (outcome.error) run.error = outcome.error.message.slice(0, 2000);
        const { reportPath, report } = (outcome.result ?? {}) as { reportPath?: unknown; report?: Record<string, unknown> };
        if (typeof reportPath === "string") run.reportPath = reportPath;
        if (report) this.branches(run, report);
        this.onChange();
      },
    };
  }

  summary(): RunSummary[] {
    const live = new Set(this.runs.map((r) => r.id));
    return [...this.runs.map(strip), ...this.past.filter((r) => !live.has(r.id))].slice(0, MAX_LISTED);
  }

  // Runs of earlier daemons (read back from their reports), listed after this daemon's.
  restore(runs: RunSummary[]): void {
    const known = new Set([...this.runs, ...this.past].map((r) => r.id));
    this.past = [...this.past, ...runs.filter((r) => !known.has(r.id)).map((r) => ({ ...r, fromDisk: true }))].slice(0, MAX_LISTED);
    this.onChange();
  }

  isRunning(runId: string): boolean {
    return this.runs.some((r) => r.id === runId && r.state === "running");
  }

  detail(runId: string, task: string): TaskDetail | undefined {
    return this.runs.find((r) => r.id === runId)?.details.get(task);
  }

  private apply(run: Run, event: Progress): void {
    if (event.type === "task_state" && event.task !== undefined) {
      const task = this.task(run, event.task);
      if (task.state === "queued" && event.state !== "queued") task.startedMs = this.now(); // elapsed counts from leaving the queue
      if (event.worker !== undefined) task.worker = event.worker;
      if (event.tokens !== undefined) task.tokens = event.tokens;
      const changed = task.state !== event.state;
      task.state = event.state ?? task.state;
      if (changed) this.note(task, `${task.state}${event.worker ? ` (${event.worker})` : ""}`);
      if (event.last !== undefined) this.note(task, event.last.slice(0, 200));
      run.stage = "tasks";
    } else if (event.type === "task_done" && event.task !== undefined && event.result) {
      this.done(run, this.task(run, event.task), event.result);
    } else if (event.type === "golden" || event.type === "golden_ready" || event.type === "planner") {
      run.stage = event.type === "golden_ready" ? "golden ready" : `${event.type}: ${String(event.step ?? "")}`.slice(0, 200);
    } else if (event.type === "merge" && event.task !== undefined) {
      run.stage = "merge";
      const task = this.task(run, event.task);
      if (event.ok && event.branch !== undefined) task.branch = event.branch.slice(0, 200);
      this.note(task, `merge ${event.ok ? "ok" : "failed"}: ${event.branch ?? ""}`);
    }
  }

  // The branches the merge made: each task's, and the integrated one.
  private branches(run: Run, report: Record<string, unknown>): void {
    for (const [task, branch] of branchesOf(report)) {
      const summary = run.tasks.find((t) => t.name === task);
      if (summary) summary.branch = branch;
      const detail = run.details.get(task);
      if (detail) detail.branch = branch;
    }
    const integrated = (report.integration as { branch?: unknown } | undefined)?.branch;
    if (typeof integrated === "string") run.integratedBranch = integrated.slice(0, 200);
  }

  private done(run: Run, task: TaskSummary, result: Record<string, unknown>): void {
    task.state = String(result.status ?? "done");
    task.endedMs = this.now();
    const tokens = (result.tokens ?? {}) as Record<string, number>;
    task.tokens = Object.values(tokens).reduce((sum, n) => sum + (typeof n === "number" ? n : 0), 0);
    task.costUsd = typeof result.costUsd === "number" ? result.costUsd : 0;
    this.note(task, `${task.state}${result.reason ? `: ${String(result.reason).slice(0, 200)}` : ""}`);
    const calls = Array.isArray(result.toolCalls) ? (result.toolCalls as TaskDetail["toolCalls"]) : [];
    const lastCall = calls.at(-1);
    task.last = lastCall ? `${lastCall.tool}: ${lastCall.title ?? lastCall.status}`.slice(0, 200) : String(result.summary ?? "").slice(0, 200);
    const patch = String(result.patch ?? "");
    const room = Math.max(0, PATCH_BUDGET_BYTES - run.patchBytes);
    run.patchBytes += Math.min(patch.length, room);
    run.details.set(task.name, {
      name: task.name,
      status: task.state,
      reason: String(result.reason ?? "").slice(0, TEXT_CAP),
      summary: String(result.summary ?? "").slice(0, TEXT_CAP),
      patch: patch.slice(0, room),
      patchTruncated: patch.length > room,
      filesChanged: Array.isArray(result.filesChanged) ? (result.filesChanged as string[]).slice(0, 1000) : [],
      toolCalls: calls.slice(-500),
      ...(result.verify !== undefined && { verify: result.verify as TaskDetail["verify"] }),
    });
  }

  private task(run: Run, name: string): TaskSummary {
    let task = run.tasks.find((t) => t.name === name);
    if (!task) run.tasks.push((task = { name, state: "queued", startedMs: this.now(), tokens: 0, costUsd: 0, last: "queued", timeline: [{ atMs: this.now(), text: "queued" }] }));
    return task;
  }

  private note(task: TaskSummary, text: string): void {
    if (task.timeline.at(-1)?.text === text) return;
    task.timeline.push({ atMs: this.now(), text });
    task.timeline.splice(0, task.timeline.length - MAX_TIMELINE);
    task.last = text;
  }
}

function strip({ details: _d, patchBytes: _p, ...summary }: Run): RunSummary {
  return summary;
}
