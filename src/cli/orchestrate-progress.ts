// What `agentiso orchestrate` shows while it runs: on a terminal, one live line per task
// (state, elapsed, tokens) redrawn in place; elsewhere, one plain line per change.
import type { ProgressEvent, TaskResult } from "../orchestrator/task-result.js";
import { totalTokens } from "../llm/token-usage.js";
import { table } from "./format.js";

interface TaskLine {
  state: string;
  started?: number;
  tokens: number;
  worker?: string;
  result?: TaskResult;
}

export class OrchestrateProgress {
  readonly tasks = new Map<string, TaskLine>();
  readonly workers = new Set<string>();
  golden?: string;
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (text: string) => void,
    private readonly live: boolean,
  ) {
    if (live) this.timer = setInterval(() => this.redraw(), 500).unref();
  }

  on(event: ProgressEvent): void {
    if (event.type === "golden") {
      if (event.workspace) this.golden = event.workspace;
      this.line(`golden: ${event.step}`);
    }
    else if (event.type === "golden_ready") {
      this.golden = event.workspace;
      this.line(`golden ready: ${event.workspace}@${event.snapshot} (${event.commit.slice(0, 12)})`);
    } else if (event.type === "task_state") {
      const task = this.tasks.get(event.task) ?? { state: "queued", tokens: 0 };
      if (event.state === "forking") task.started = Date.now();
      if (event.worker) {
        task.worker = event.worker;
        this.workers.add(event.worker);
      }
      if (event.tokens !== undefined) task.tokens = event.tokens;
      const changed = task.state !== event.state;
      task.state = event.state;
      this.tasks.set(event.task, task);
      if (changed && !this.live) this.write(`${event.task}: ${event.state}${event.worker ? ` (${event.worker})` : ""}\n`);
    } else if (event.type === "task_done") {
      const task = this.tasks.get(event.task) ?? { state: "done", tokens: 0 };
      task.state = event.result.status;
      task.result = event.result;
      task.tokens = totalTokens(event.result.tokens);
      this.tasks.set(event.task, task);
      if (event.result.worker) this.workers.delete(event.result.worker);
      if (!this.live) this.write(`${event.task}: ${event.result.status}${event.result.reason ? ` — ${event.result.reason}` : ""}\n`);
    } else if (event.type === "planner") {
      this.line(`planner: ${event.step}${event.worker ? ` (${event.worker})` : ""}`);
    } else if (event.type === "merge") {
      this.line(`merge ${event.task} → ${event.branch}: ${event.ok ? "ok" : `failed: ${event.detail ?? ""}`}`);
    } else if (event.type === "integrate") {
      this.workers.add(event.workspace);
      this.line(event.task === undefined ? `integrate: ${event.step ?? ""}` : `integrate ${event.task}: ${event.outcome ?? ""}${event.detail ? ` (${event.detail})` : ""}`);
    } else if (event.type === "review") {
      this.line(`review: verdict ${event.verdict}${event.gate ? " (gate)" : ""}`);
    }
    if (this.live) this.redraw();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.live) this.redraw();
  }

  summary(results: readonly TaskResult[]): string {
    return table(
      results.map((r) => [r.name, r.status, String(totalTokens(r.tokens)), String(r.filesChanged.length), `${(r.durationMs / 1000).toFixed(1)}s`, r.reason.slice(0, 80)]),
      ["TASK", "STATUS", "TOKENS", "FILES", "TIME", "REASON"],
    );
  }

  // A log line above the live block.
  private line(text: string): void {
    if (this.live) this.clear();
    this.write(text + "\n");
    if (this.live) this.redraw();
  }

  private clear(): void {
    if (this.drawnLines > 0) this.write(`\x1b[${this.drawnLines}F\x1b[J`);
    this.drawnLines = 0;
  }

  private redraw(): void {
    this.clear();
    const lines = [...this.tasks.entries()].map(([name, t]) => {
      const elapsed = t.started ? `${Math.round((t.result?.durationMs ?? Date.now() - t.started) / 1000)}s` : "";
      return `  ${name.padEnd(24)} ${t.state.padEnd(11)} ${elapsed.padStart(5)}  ${t.tokens} tokens`;
    });
    if (lines.length) this.write(lines.join("\n") + "\n");
    this.drawnLines = lines.length;
  }
}
