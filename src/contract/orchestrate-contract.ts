// orchestrate: run a plan (golden → fork → opencode → collect → merge) and write the results
// directory; progress streams to callers that ask for it.
import { z } from "zod";
import { defineContract } from "./contract.js";
import { OrchestrationReportSchema } from "./report-schema.js";

export const orchestrate = defineContract({
  name: "orchestrate",
  title: "Run parallel coding agents",
  description:
    "Run parallel OpenCode agents: prepare (or reuse) a golden workspace, fork one worker per task, run `opencode run` in each, collect outcome, tokens and a patch per task, destroy the workers, optionally merge patches into branches. Returns the report. Given a free-text task instead of a task list, a planning run of opencode writes the tasks first (plan.toml in resultsDir; planOnly stops there).",
  category: "create",
  hints: { openWorld: true },
  streamsProgress: true,
  input: z
    .object({
      plan: z.record(z.string(), z.unknown()).describe("The plan (PLAN.toml as an object: golden, model, run, task[]); see docs/orchestrate.md"),
      baseDir: z.string().min(1).describe("Directory relative host paths in the plan are resolved against (MCP sessions: relative to, or inside, the session's transfer dir)"),
      resultsDir: z.string().min(1).describe("Where report.json, report.md and the patches go (MCP sessions: relative to, or inside, the session's transfer dir)"),
      apiKey: z.string().min(1).max(16384).optional().describe("The model's key (the value of the plan's api_key_env); never stored or logged"),
      maxParallel: z.number().int().min(1).max(64).optional().describe("How many workers run at once (default: the plan's run.max_parallel)"),
      keepWorkers: z.boolean().optional().describe("Keep the worker workspaces after the run to inspect them (default: the plan's run.keep_workers, false)"),
      // a free-text task instead of [[task]]: the planner writes the tasks (docs/orchestrate.md, "From one sentence")
      task: z.string().min(1).max(65536).optional().describe("A free-text task instead of the plan's task[]: a planning run of opencode in a fork of the golden splits it into subtasks"),
      maxTasks: z.number().int().min(1).max(16).optional().describe("With task: at most this many subtasks (default 3)"),
      planOnly: z.boolean().optional().describe("With task: stop after writing plan.toml into resultsDir (edit it, then run it as a plan)"),
    })
    .strict(),
  output: z.object({
    reportPath: z.string(),
    report: OrchestrationReportSchema,
    planPath: z.string().optional().describe("With task: the generated plan.toml"),
  }),
});
