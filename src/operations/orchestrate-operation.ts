// orchestrate: run a plan (golden → fork → opencode → collect → merge) inside the daemon and
// write the results directory. Progress streams to the caller when it asks for it. A plan from
// an MCP session is confined before anything starts: golden.workspace must be its own, host
// paths (repo, stub_script, baseDir, resultsDir) must lie in its transfer directory, and the
// provider URL must be one the operator allows.
import { isAbsolute } from "node:path";
import { AgentisoError } from "../core/errors.js";
import type { HostPaths } from "../core/host-paths.js";
import { DEFAULT_BASE_URLS } from "../orchestrator/model-provider.js";
import { orchestrate, type OrchestrationReport } from "../orchestrator/orchestrator.js";
import { DEFAULT_MAX_TASKS, isHostPath, parsePlan, parseTaskPlan, PlanSchema, type Plan } from "../orchestrator/plan.js";
import { assertProviderUrlAllowed } from "../orchestrator/provider-url-policy.js";
import { parseSizeBytes } from "../config/size.js";
import { writeReport, writeTaskEvents } from "../orchestrator/report-writer.js";
import { hostPathsFor } from "./host-access.js";
import { defineOperation, workspaceFor, type OperationContext } from "./operation.js";
import { DEFAULT_ALLOWED_BASE_URLS } from "../config/config.js";
import { contracts } from "../contract/registry.js";

export const orchestrateOperation = defineOperation(contracts.orchestrate, {
  run: async (ctx, input): Promise<{ reportPath: string; report: OrchestrationReport; planPath?: string }> => {
    const hostPaths = hostPathsFor(ctx);
    const confined = hostPaths.root !== undefined;
    const resultsDir = confined ? await hostPaths.resolve(input.resultsDir, { forWriting: true, what: "resultsDir" }) : input.resultsDir;
    const baseDir = confined ? await hostPaths.resolve(input.baseDir, { forWriting: true, what: "baseDir" }) : input.baseDir;
    if (!isAbsolute(resultsDir) || !isAbsolute(baseDir)) throw new AgentisoError("INVALID_INPUT", "resultsDir and baseDir must be absolute paths");
    if (input.task === undefined && (input.maxTasks !== undefined || input.planOnly !== undefined)) throw new AgentisoError("INVALID_INPUT", "maxTasks and planOnly go with a free-text task");
    const plan = input.task === undefined ? parsePlan(input.plan, baseDir) : parseTaskPlan(input.plan, input.task, baseDir);
    const reusedGolden = plan.golden.workspace === undefined ? undefined : workspaceFor(ctx, plan.golden.workspace);
    if (ctx.session !== undefined) await confinePlan(ctx, plan, hostPaths);
    const report = await orchestrate(ctx.services.engine, plan, {
      ...(reusedGolden !== undefined && { reusedGolden }),
      hostPaths,
      ...(input.apiKey !== undefined && { apiKey: input.apiKey }),
      ...(input.maxParallel !== undefined && { maxParallel: input.maxParallel }),
      ...(input.keepWorkers !== undefined && { keepWorkers: input.keepWorkers }),
      ...(ctx.session !== undefined && { owner: ctx.session }),
      ...(ctx.services.caps && { caps: ctx.services.caps }),
      ...(input.task !== undefined && { planner: { task: input.task, maxTasks: input.maxTasks ?? DEFAULT_MAX_TASKS, planOnly: input.planOnly ?? false, resultsDir } }),
      ...(ctx.services.opencodeBinary !== undefined && { opencodeBinary: ctx.services.opencodeBinary }),
      signal: ctx.signal,
      logger: ctx.logger,
      progress: (event) => ctx.progress?.(event),
      onEvents: (task, ndjson) => void writeTaskEvents(resultsDir, task, ndjson).catch((err: unknown) => ctx.logger.warn("cannot write task events", { task, err })),
    });
    const reportPath = await writeReport(resultsDir, report);
    return { reportPath, report, ...(report.planner && { planPath: report.planner.planPath }) };
  },
  creates: (input) => {
    // the golden unless the plan reuses one, and the workers alive at once: the task pool keeps
    // at most two per slot (all of them when they are kept); a bad plan fails in run()
    // a free-text task: the planner's fork, then at most maxTasks workers (never both at once)
    const planned = input.task === undefined ? undefined : input.planOnly ? 1 : (input.maxTasks ?? DEFAULT_MAX_TASKS);
    const parsed = PlanSchema.safeParse(planned === undefined ? input.plan : { ...input.plan, task: Array.from({ length: planned }, (_, i) => ({ name: `t${i}`, prompt: "planned" })) });
    if (!parsed.success) return { count: 0 };
    const { golden, run, task } = parsed.data;
    const parallel = Math.min(input.maxParallel ?? run.max_parallel, task.length);
    const workers = (input.keepWorkers ?? run.keep_workers) ? task.length : Math.min(task.length, 2 * parallel);
    const integration = run.merge === "integrate" ? 1 : 0;
    return { count: workers + integration + (golden.workspace === undefined ? 1 : 0), memoryBytes: parseSizeBytes(run.memory) };
  },
});

// Everything an MCP plan names, checked before the first workspace or packet (its golden
// workspace was looked up with the owner check already): host files inside its transfer
// directory, an allowed provider URL.
async function confinePlan(ctx: OperationContext, plan: Plan, hostPaths: HostPaths): Promise<void> {
  if (plan.golden.repo !== undefined && isHostPath(plan.golden.repo)) plan.golden.repo = await hostPaths.resolve(plan.golden.repo, { what: "golden.repo" });
  if (plan.model.stub_script !== undefined) plan.model.stub_script = await hostPaths.resolve(plan.model.stub_script, { what: "model.stub_script" });
  if (plan.model.provider === "stub") return; // the daemon starts the stub model itself, on its loopback
  const baseUrl = plan.model.base_url ?? DEFAULT_BASE_URLS[plan.model.provider];
  if (baseUrl === undefined) return; // parsePlan already asked for one
  await assertProviderUrlAllowed(baseUrl, ctx.services.providerUrls ?? { allowedBaseUrls: DEFAULT_ALLOWED_BASE_URLS, allowPrivateBaseUrls: false });
}
