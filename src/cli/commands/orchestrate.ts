// `agentiso orchestrate PLAN.toml [--json] [--results DIR] [--max-parallel N] [--keep-workers] [--dry-run]`
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { toAgentisoError } from "../../core/errors.js";
import type { ProgressEvent } from "../../orchestrator/task-result.js";
import type { CliCommand } from "../command.js";
import { contracts } from "../../contract/registry.js";
import { numberValue, requirePositionals, stringValue } from "../command.js";

export const orchestrateCommand: CliCommand = {
  name: "orchestrate",
  usage: "orchestrate PLAN.toml [--json] [--results DIR] [--max-parallel N] [--keep-workers] [--dry-run]",
  summary: "run one OpenCode agent per task in parallel workers forked from a golden workspace",
  options: { results: { type: "string" }, "max-parallel": { type: "string" }, "keep-workers": { type: "boolean" }, "dry-run": { type: "boolean" } },
  async run(ctx, values, positionals) {
    const [planPath] = requirePositionals(this, positionals, 1);
    const { loadPlanFile } = await import("../../orchestrator/plan.js");
    const { OrchestrateProgress } = await import("../orchestrate-progress.js");
    const { writePartialReport } = await import("../partial-report.js");
    const plan = await loadPlanFile(planPath!);
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
      const raw = parseToml(await readFile(planPath!, "utf8"));
      const { report, reportPath } = await client.runStreaming(
        contracts.orchestrate,
        {
          plan: raw,
          baseDir: dirname(resolve(planPath!)),
          resultsDir,
          ...(apiKey !== undefined && { apiKey }),
          ...(numberValue(values, "max-parallel") !== undefined && { maxParallel: numberValue(values, "max-parallel") }),
          ...(values["keep-workers"] === true && { keepWorkers: true }),
        },
        (event) => progress.on(event as ProgressEvent),
        { signal: controller.signal },
      );
      progress.stop();
      if (values.json) ctx.json(report);
      else ctx.out(`${progress.summary(report.tasks)}\nreport: ${reportPath}\n`);
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
