// `agentiso orchestrate PLAN.toml|"TASK" [--repo PATH|URL ...] [--json] [--results DIR] [--max-parallel N] [--keep-workers] [--dry-run]`
// (which of the two ARG is: src/cli/orchestrate-target.ts)
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { toAgentisoError } from "../../core/errors.js";
import type { ProgressEvent } from "../../orchestrator/task-result.js";
import type { CliCommand } from "../command.js";
import { contracts } from "../../contract/registry.js";
import { numberValue, requirePositionals, stringValue } from "../command.js";
import { orchestrateTarget } from "../orchestrate-target.js";

const TASK_USAGE = '"TASK" --repo PATH|URL [--tasks N] [--plan-only] [--image NAME] [--setup CMD]... [--network none|egress] [--provider P] [--base-url URL] [--model NAME] [--api-key-env VAR] [--stub-script FILE] [--verify CMD]... [--verify-retries N] [--merge none|branch-per-task|integrate] [--resolve skip|agent] [--review]';

export const orchestrateCommand: CliCommand = {
  name: "orchestrate",
  usage: `orchestrate PLAN.toml|${TASK_USAGE} [--json] [--results DIR] [--max-parallel N] [--keep-workers] [--dry-run]`,
  summary: "run one OpenCode agent per task in parallel workers forked from a golden workspace; a free-text TASK is first split into tasks by a planning agent (an existing FILE.toml is a plan)",
  options: {
    results: { type: "string" },
    "max-parallel": { type: "string" },
    "keep-workers": { type: "boolean" },
    "dry-run": { type: "boolean" },
    // a free-text task (orchestrate-target.ts)
    repo: { type: "string" },
    image: { type: "string" },
    setup: { type: "string", multiple: true },
    network: { type: "string" },
    tasks: { type: "string" },
    "plan-only": { type: "boolean" },
    provider: { type: "string" },
    "base-url": { type: "string" },
    model: { type: "string" },
    "api-key-env": { type: "string" },
    "stub-script": { type: "string" },
    verify: { type: "string", multiple: true },
    "verify-retries": { type: "string" },
    merge: { type: "string" },
    resolve: { type: "string" },
    review: { type: "boolean" },
  },
  async run(ctx, values, positionals) {
    const [planPath] = requirePositionals(this, positionals, 1);
    const { OrchestrateProgress } = await import("../orchestrate-progress.js");
    const { writePartialReport } = await import("../partial-report.js");
    const { plan, raw, baseDir, task } = await orchestrateTarget(planPath!, values);
    if (values["dry-run"] && task) {
      ctx.out(`task is valid: planned into at most ${task.maxTasks} tasks in a fork of the golden from ${plan.golden.repo} (image ${plan.golden.image}), model ${plan.model.provider}/${plan.model.model}${task.planOnly ? ", plan only" : ""}\n`);
      return 0;
    }
    if (values["dry-run"]) {
      ctx.out(`plan ${planPath} is valid: golden ${plan.golden.workspace ?? `from ${plan.golden.repo} (image ${plan.golden.image})`}, model ${plan.model.provider}/${plan.model.model} (key ${plan.model.key_mode}), ${plan.task.length} tasks, max_parallel ${plan.run.max_parallel}, merge ${plan.run.merge}\n`);
      for (const task of plan.task) ctx.out(`  ${task.name}: ${task.prompt.slice(0, 100)}\n`);
      return 0;
    }
    const resultsDir = resolve(stringValue(values, "results") ?? `agentiso-results-${new Date().toISOString().replace(/[:.]/g, "-")}`);
    const apiKey = plan.model.api_key_env ? process.env[plan.model.api_key_env] : undefined;
    const progress = new OrchestrateProgress((text) => process.stderr.write(text), process.stderr.isTTY === true && !values.json);
    const controller = new AbortController();
    const onSigint = () => {
      process.stderr.write("\ncancelling: stopping the agents and destroying the workers…\n");
      controller.abort();
    };
    process.once("SIGINT", onSigint);
    const client = await ctx.daemon();
    try {
      const { report, reportPath, planPath: generated } = await client.runStreaming(
        contracts.orchestrate,
        {
          plan: raw,
          baseDir,
          resultsDir,
          ...(task !== undefined && { task: task.task, planOnly: task.planOnly, maxTasks: task.maxTasks }),
          ...(apiKey !== undefined && { apiKey }),
          ...(numberValue(values, "max-parallel") !== undefined && { maxParallel: numberValue(values, "max-parallel") }),
          ...(values["keep-workers"] === true && { keepWorkers: true }),
        },
        (event) => progress.on(event as ProgressEvent),
        { signal: controller.signal },
      );
      progress.stop();
      if (values.json) ctx.json(report);
      else if (report.planner?.planOnly) ctx.out(`plan: ${generated} (${report.planner.tasks.length} tasks: ${report.planner.tasks.join(", ")})\nrun it with: agentiso orchestrate ${generated}\n`);
      else ctx.out(`${progress.summary(report.tasks)}\n${generated ? `plan: ${generated}\n` : ""}report: ${reportPath}\n`);
      return report.tasks.every((t) => t.status === "succeeded") ? 0 : 1;
    } catch (err) {
      progress.stop();
      const error = toAgentisoError(err);
      if (progress.tasks.size === 0 && !controller.signal.aborted) throw error;
      const reportPath = controller.signal.aborted ? await waitForDaemonReport(resultsDir) : undefined;
      const builtGolden = plan.golden.workspace === undefined && !plan.golden.keep;
      const written = reportPath ?? (await writePartialReport(ctx, resultsDir, progress, error, builtGolden));
      ctx.err(`agentiso: ${controller.signal.aborted ? "cancelled" : error.message}\npartial report: ${written}\n`);
      return controller.signal.aborted ? 130 : 1;
    } finally {
      process.off("SIGINT", onSigint);
    }
  },
};

// After Ctrl-C the daemon stops the agents, destroys the workers and writes the report itself.
async function waitForDaemonReport(resultsDir: string): Promise<string | undefined> {
  const path = join(resultsDir, "report.json");
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (existsSync(path)) return path;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return undefined;
}
