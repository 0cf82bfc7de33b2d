// A finished run as the board shows it, read back from its report.json (runs of earlier
// daemons, and the task details of runs the board no longer keeps in memory). The file lies in
// a directory its caller may write, so every field is checked and clipped, never trusted.
import type { RunSummary, TaskDetail, TaskSummary } from "./page-shapes.js";

const TEXT_CAP = 64 * 1024;

type Json = Record<string, unknown>;

// The run's summary (no patches); state "failed" when it was cancelled.
export function summaryFromReport(id: string, report: Json, reportPath: string): RunSummary {
  const startedMs = Date.parse(str(report.startedAt)) || 0;
  const durationMs = num(report.durationMs);
  const branches = branchesOf(report);
  const tasks: TaskSummary[] = list(report.tasks).slice(0, 1000).map((t) => {
    const calls = list(t.toolCalls);
    const last = calls.at(-1);
    const branch = branches.get(str(t.name));
    return {
      name: str(t.name).slice(0, 100),
      state: str(t.status).slice(0, 40),
      startedMs,
      endedMs: startedMs + num(t.durationMs),
      tokens: Object.values(obj(t.tokens)).reduce<number>((sum, n) => sum + num(n), 0),
      costUsd: num(t.costUsd),
      last: (last ? `${str(last.tool)}: ${str(last.title) || str(last.status)}` : str(t.summary)).slice(0, 200),
      timeline: [],
      ...(branch !== undefined && { branch }),
    };
  });
  const integration = obj(report.integration);
  return {
    id,
    startedMs,
    endedMs: startedMs + durationMs,
    state: report.cancelled === true ? "failed" : "done",
    stage: report.cancelled === true ? "cancelled" : "done",
    tasks,
    reportPath,
    ...(typeof integration.branch === "string" && { integratedBranch: integration.branch.slice(0, 200) }),
  };
}

// One task's detail from the report, or undefined when the report has no such task.
export function detailFromReport(report: Json, name: string): TaskDetail | undefined {
  const task = list(report.tasks).find((t) => t.name === name);
  if (!task) return undefined;
  const patch = str(task.patch);
  const verify = obj(task.verify);
  const branch = branchesOf(report).get(name);
  return {
    name,
    status: str(task.status).slice(0, 40),
    reason: str(task.reason).slice(0, TEXT_CAP),
    summary: str(task.summary).slice(0, TEXT_CAP),
    patch: patch.slice(0, 4 * 1024 * 1024),
    patchTruncated: patch.length > 4 * 1024 * 1024,
    filesChanged: (Array.isArray(task.filesChanged) ? (task.filesChanged as unknown[]) : []).filter((f): f is string => typeof f === "string").slice(0, 1000),
    toolCalls: list(task.toolCalls).slice(-500).map((c) => ({ tool: str(c.tool), status: str(c.status), ...(typeof c.title === "string" && { title: c.title.slice(0, 500) }), ...(typeof c.error === "string" && { error: c.error.slice(0, 2000) }) })),
    ...(typeof verify.passed === "boolean" && {
      verify: { passed: verify.passed, attempts: num(verify.attempts), ...(typeof verify.command === "string" && { command: verify.command }), ...(typeof verify.exitCode === "number" && { exitCode: verify.exitCode }), outputTail: str(verify.outputTail).slice(-TEXT_CAP) },
    }),
    ...(branch !== undefined && { branch }),
  };
}

// Each merged task's branch (branch-per-task), as `<branch> in <repository>`.
export function branchesOf(report: Json): Map<string, string> {
  const branches = new Map<string, string>();
  for (const m of list(report.merge)) if (m.ok === true && typeof m.branch === "string") branches.set(str(m.task), m.branch.slice(0, 200));
  return branches;
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((v): v is Json => typeof v === "object" && v !== null) : [];
}

function obj(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}
