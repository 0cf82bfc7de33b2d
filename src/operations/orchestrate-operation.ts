// orchestrate: run a plan (golden → fork → opencode → collect → merge) inside the daemon and
// write the results directory. Progress streams to the caller when it asks for it.
import { isAbsolute } from "node:path";
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import { GOLDEN_REPO_DIR, type GoldenWorkspace } from "../orchestrator/golden.js";
import { orchestrate, type GoldenSpec, type OrchestrationReport } from "../orchestrator/orchestrator.js";
import { isHostPath, parsePlan } from "../orchestrator/plan.js";
import { PrepareInputSchema, prepareGolden } from "./prepare-operation.js";
import type { OperationContext } from "./operation.js";
import { writeReport, writeTaskEvents } from "../orchestrator/report-writer.js";
import { confinedHostPath } from "./file-operations.js";
import { defineOperation } from "./operation.js";

export const orchestrateOperation = defineOperation({
  name: "orchestrate",
  description:
    "Run parallel OpenCode agents: prepare (or reuse) a golden workspace, fork one worker per task, run `opencode run` in each, collect outcome, tokens and a patch per task, destroy the workers, optionally merge patches into branches. Returns the report.",
  category: "create",
  input: z
    .object({
      plan: z.record(z.string(), z.unknown()).describe("The plan (PLAN.toml as an object: golden, model, run, task[]); see docs/orchestrate.md"),
      baseDir: z.string().min(1).describe("Directory relative host paths in the plan are resolved against"),
      resultsDir: z.string().min(1).describe("Where report.json, report.md and the patches go (MCP sessions: relative to the transfer dir)"),
      apiKey: z.string().min(1).max(16384).optional().describe("The model's key (the value of the plan's api_key_env); never stored or logged"),
      maxParallel: z.number().int().min(1).max(64).optional().describe("How many workers run at once (default: the plan's run.max_parallel)"),
      keepWorkers: z.boolean().optional().describe("Keep the worker workspaces after the run to inspect them (default: the plan's run.keep_workers, false)"),
    })
    .strict(),
  run: async (ctx, input): Promise<{ reportPath: string; report: OrchestrationReport }> => {
    const resultsDir = ctx.session !== undefined ? await confinedHostPath(ctx.services.transferDir, input.resultsDir, true) : input.resultsDir;
    if (!isAbsolute(resultsDir) || !isAbsolute(input.baseDir)) throw new AgentisoError("INVALID_INPUT", "resultsDir and baseDir must be absolute paths");
    const plan = parsePlan(input.plan, input.baseDir);
    const report = await orchestrate(ctx.services.engine, plan, {
      prepareGolden: (spec) => prepareGoldenFor(ctx, spec),
      ...(input.apiKey !== undefined && { apiKey: input.apiKey }),
      ...(input.maxParallel !== undefined && { maxParallel: input.maxParallel }),
      ...(input.keepWorkers !== undefined && { keepWorkers: input.keepWorkers }),
      ...(ctx.session !== undefined && { owner: ctx.session }),
      ...(ctx.services.caps && { caps: ctx.services.caps }),
      signal: ctx.signal,
      logger: ctx.logger,
      progress: (event) => ctx.progress?.(event),
      onEvents: (task, ndjson) => void writeTaskEvents(resultsDir, task, ndjson).catch((err: unknown) => ctx.logger.warn("cannot write task events", { task, err })),
    });
    const reportPath = await writeReport(resultsDir, report);
    return { reportPath, report };
  },
});

// The golden workspace through workspace_prepare, so MCP and the orchestrator build it alike.
async function prepareGoldenFor(ctx: OperationContext, spec: GoldenSpec): Promise<GoldenWorkspace> {
  const input = PrepareInputSchema.parse({
    name: spec.name,
    image: spec.image,
    ...(spec.runtime !== undefined && { runtime: spec.runtime }),
    ...(isHostPath(spec.repo) ? { hostPath: spec.repo } : { url: spec.repo }),
    dest: GOLDEN_REPO_DIR,
    setup: spec.setup,
    setupNetwork: spec.network === "egress",
    snapshot: spec.snapshot,
    memory: spec.memoryMiB * 1024 * 1024,
    cpus: spec.cpus,
  });
  const prepared = await prepareGolden(ctx, input);
  if (prepared.commit === null) throw new AgentisoError("INTERNAL", "workspace_prepare cloned no repository");
  return { workspace: ctx.services.engine.workspaces.get(prepared.workspace.id), snapshot: prepared.snapshot, commit: prepared.commit, repoDir: GOLDEN_REPO_DIR };
}
