// Orchestrations: the last runs, each with totals, a progress bar and one row per task with
// its live state, elapsed time, tokens, cost and last event. A task's name opens its detail.
import { duration, useNow } from "./live";
import type { RunSummary } from "./types";

// A file of the run's results directory, served behind the session (report.json, report.md, <task>.patch).
export const runFile = (run: string, file: string) => `/api/runs/${encodeURIComponent(run)}/files/${encodeURIComponent(file)}`;

const FINAL = new Set(["succeeded", "failed", "timeout", "stalled", "error", "unverified"]);

export function OrchestrationsView({ runs, onOpen }: { runs: RunSummary[] | undefined; onOpen: (run: string, task: string) => void }) {
  const now = useNow();
  if (!runs) return <p class="muted">waiting for the daemon…</p>;
  if (runs.length === 0) return <p class="muted">No orchestration yet: run <code>agentiso orchestrate plan.toml</code>.</p>;
  return (
    <div>
      {runs.map((run) => {
        const done = run.tasks.filter((t) => FINAL.has(t.state)).length;
        const tokens = run.tasks.reduce((sum, t) => sum + t.tokens, 0);
        const cost = run.tasks.reduce((sum, t) => sum + t.costUsd, 0);
        return (
          <section key={run.id} class="run" aria-label={`Orchestration ${run.id}`} data-run={run.id}>
            <h2>
              {run.id} <span class={`badge state-${run.state}`} data-run-state={run.state}>{run.state}</span> {run.state === "running" ? <span class="muted">{run.stage}</span> : null}
              {run.fromDisk ? <span class="muted"> (before the daemon's restart)</span> : null}
            </h2>
            <p class="totals">
              {done}/{run.tasks.length} tasks · {duration((run.endedMs ?? now) - run.startedMs)} · {tokens} tokens · ${cost.toFixed(4)}
              {run.reportPath ? <span> · <a href={runFile(run.id, "report.json")} target="_blank" rel="noopener" data-testid="report-link" title={run.reportPath}>report.json</a> · <a href={runFile(run.id, "report.md")} target="_blank" rel="noopener">report.md</a></span> : null}
              {run.integratedBranch ? <span> · branch <code>{run.integratedBranch}</code></span> : null}
            </p>
            <progress max={Math.max(1, run.tasks.length)} value={done} aria-label="tasks done" />
            {run.error ? <p class="error">{run.error}</p> : null}
            <table class="grid">
              <thead>
                <tr><th>task</th><th>state</th><th>elapsed</th><th>tokens</th><th>cost</th><th>last event</th></tr>
              </thead>
              <tbody>
                {run.tasks.map((task) => (
                  <tr key={task.name} data-task={task.name}>
                    <td><button class="link" onClick={() => onOpen(run.id, task.name)}>{task.name}</button></td>
                    <td><span class={`badge state-${task.state}`} data-state={task.state}>{task.state}</span></td>
                    <td class="num">{duration((task.endedMs ?? now) - task.startedMs)}</td>
                    <td class="num">{task.tokens}</td>
                    <td class="num">${task.costUsd.toFixed(4)}</td>
                    <td class="last" title={[...task.timeline.map((e) => e.text), task.branch ? `branch ${task.branch}` : ""].join("\n")}>{task.last}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        );
      })}
    </div>
  );
}
