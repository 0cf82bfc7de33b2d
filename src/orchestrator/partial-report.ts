// The report of a run that ended without the daemon's own (it died mid-run): built from what a
// front door saw stream by. Tasks that finished keep their results; the others become status
// error with the reason, naming the worker they had.
import { totalsOf, type OrchestrationReport } from "./orchestrator.js";
import type { TaskResult } from "./task-result.js";
import { errorResult } from "./task-runner.js";

/** What the progress stream showed of a run: the golden's name and each task's worker and result. */
export interface SeenProgress {
  golden?: string | undefined;
  tasks: ReadonlyMap<string, { worker?: string | undefined; result?: TaskResult | undefined }>;
}

// A cancelled report whose unfinished tasks failed with `ERROR: <why>`.
export function partialReport(seen: SeenProgress, why: string): OrchestrationReport {
  const reason = `ERROR: ${why}`;
  const tasks = [...seen.tasks.entries()].map(([name, task]) => task.result ?? errorResult({ name }, task.worker, reason, 0));
  return {
    id: "partial",
    startedAt: new Date().toISOString(),
    durationMs: 0,
    cancelled: true,
    golden: { workspace: seen.golden ?? "", snapshot: "", commit: "" },
    model: { provider: "", model: "", keyMode: "" },
    tasks,
    totals: totalsOf(tasks),
    merge: [],
  };
}
