// golden → fork → run opencode → collect → report → merge. Runs inside the daemon (it owns the
// engine and the guest connections the LLM tunnels ride on); front doors stream its progress.
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { AgentisoError } from "../core/errors.js";
import type { HostPaths } from "../core/host-paths.js";
import type { Logger } from "../core/logger.js";
import { GOLDEN_REPO_DIR, reuseGolden, type GoldenWorkspace } from "../domain/golden-workspace.js";
import { prepareGolden } from "../domain/prepare-golden.js";
import { ensureGoldenOpencode } from "./opencode/golden-opencode.js";
import type { Engine } from "../engine/engine.js";
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import { LlmProxy } from "../llm/proxy.js";
import { addUsage, zeroUsage, type TokenUsage } from "../llm/token-usage.js";
import { keyDeliveryFor } from "./key-delivery.js";
import { mergeBranchPerTask, type MergeResult } from "./merge.js";
import { runIntegration, type IntegrationRun } from "./integrate-run.js";
import type { IntegrationResult, ReviewResult } from "./integration-result.js";
import { resolveModel } from "./model-provider.js";
import { isHostPath, stallTimeoutMs, taskTimeoutMs, verifyTimeoutMs, type Plan } from "./plan.js";
import { planTasks, type PlannerInfo, type PlannerRequest } from "./planner.js";
import { withPlanner } from "./planner-report.js";
import { runTaskPool } from "./task-pool.js";
import type { TaskRunContext } from "./task-run-context.js";
import type { ProgressEvent, TaskResult } from "./task-result.js";
import { parseSizeBytes } from "../config/size.js";
import { CAP_DEFAULTS } from "../config/config.js";

/** A golden built for the run gets this long for each setup command. */
const GOLDEN_SETUP_TIMEOUT_MS = 1_800_000;

export interface OrchestrateOptions {
  /** The plan's golden.workspace, looked up by the caller with its owner check (a session sees only its own); set exactly when the plan reuses one. */
  reusedGolden?: WorkspaceRecord;
  /** How the plan's host paths (the golden repo, stub_script, the repo merged into) are read: confined for MCP sessions. */
  hostPaths: HostPaths;
  apiKey?: string;
  maxParallel?: number;
  keepWorkers?: boolean;
  owner?: string;
  signal: AbortSignal;
  logger: Logger;
  progress?: (event: ProgressEvent) => void;
  onEvents?: (task: string, ndjson: string) => void;
  /** Caps on what a worker hands back (opencode's output, the patch); default CAP_DEFAULTS. */
  caps?: { agentOutputBytes: number; patchBytes: number };
  /** A free-text task: the plan's tasks come from the planner (planner.ts), run in a fork of the golden first. */
  planner?: PlannerRequest;
  /** The host's pinned opencode binary, layered into a golden whose workers could not run one otherwise (see golden-opencode.ts). */
  opencodeBinary?: string;
}

export interface OrchestrationReport {
  id: string;
  startedAt: string;
  durationMs: number;
  /** Wall time of each stage: building (or reusing) the golden, running the tasks, merging. */
  stagesMs?: { golden: number; tasks: number; merge: number };
  cancelled: boolean;
  golden: { workspace: string; snapshot: string; commit: string; repo?: string };
  model: { provider: string; model: string; keyMode: string };
  tasks: TaskResult[];
  totals: { tokens: TokenUsage; costUsd: number; succeeded: number; failed: number; throttled?: number };
  merge: MergeResult[];
  /** Set when the tasks came from the planner; its tokens are in totals too. */
  planner?: PlannerInfo;
  /** merge = "integrate": the integrated branch. */
  integration?: IntegrationResult;
  /** [review]: the reviewer's verdict; its answer is review.md. */
  review?: ReviewResult;
}

// Runs the whole plan; resolves with the report even when tasks fail or the run is cancelled.
export async function orchestrate(engine: Engine<GuestClient>, plan: Plan, options: OrchestrateOptions): Promise<OrchestrationReport> {
  const id = randomBytes(3).toString("hex");
  const startedAt = new Date();
  const progress = options.progress ?? (() => {});
  await using model = await resolveModel(plan, options.apiKey, options.logger, options.hostPaths, options.planner);
  const proxy = new LlmProxy({ provider: model.provider, logger: options.logger, ...(plan.model.max_concurrency !== undefined && { maxConcurrency: plan.model.max_concurrency }) });
  let golden: GoldenWorkspace | undefined;
  const builtGolden = plan.golden.workspace === undefined;
  // a reused golden's ttl or idle timeout must not stop or destroy it under the run; a built one and the workers get no limits
  using _goldenHold = options.reusedGolden && engine.lifecycle.hold(options.reusedGolden.id);
  try {
    const lap = stopwatch();
    golden = await goldenFor(engine, plan, options, id, progress);
    progress({ type: "golden_ready", workspace: golden.workspace.name, snapshot: golden.snapshot, commit: golden.commit });
    const goldenMs = lap();
    const ctx = runContext(engine, plan, golden, proxy, model.opencode, options, id, progress);
    const planner = options.planner && (await planTasks(ctx, plan, options.planner));
    if (planner?.planOnly) return withPlanner({ ...report(id, startedAt, plan, golden, [], [], options.signal.aborted), stagesMs: { golden: goldenMs, tasks: 0, merge: 0 } }, planner);
    const tasks = await runAll(ctx, plan, options);
    const tasksMs = lap();
    const confinement = options.hostPaths.root !== undefined ? { confinedTo: options.hostPaths.root } : {};
    const merge = plan.run.merge === "branch-per-task" ? await mergeBranchPerTask(engine, plan, golden, tasks, progress, { signal: options.signal, ...confinement }) : [];
    const integrated: IntegrationRun | undefined = plan.run.merge === "integrate" && !options.signal.aborted ? await runIntegration(ctx, plan, tasks, id, confinement) : undefined;
    const stagesMs = { golden: goldenMs, tasks: tasksMs, merge: lap() };
    return withPlanner({ ...report(id, startedAt, plan, golden, tasks, merge, options.signal.aborted), ...integrated, stagesMs }, planner);
  } finally {
    await proxy.close();
    // Branches of a URL repo live in the golden workspace's repository: it must stay then.
    const branchesInGolden = plan.run.merge !== "none" && !(plan.golden.repo !== undefined && isHostPath(plan.golden.repo));
    if (golden && builtGolden && !plan.golden.keep && !branchesInGolden) {
      await engine.workspaces.destroy(golden.workspace.id).catch((err: unknown) => options.logger.warn("golden destroy failed", { workspace: golden?.workspace.name, err }));
    }
  }
}

async function goldenFor(engine: Engine<GuestClient>, plan: Plan, options: OrchestrateOptions, id: string, progress: (e: ProgressEvent) => void): Promise<GoldenWorkspace> {
  if (plan.golden.workspace !== undefined) {
    if (options.reusedGolden === undefined) throw new AgentisoError("INTERNAL", `the plan reuses workspace ${plan.golden.workspace} but the caller did not look it up`);
    return reuseGolden(engine, options.reusedGolden, plan.golden.snapshot, options.signal);
  }
  const name = `golden-${id}`;
  const repo = plan.golden.repo!;
  progress({ type: "golden", step: `preparing from ${repo} (image ${plan.golden.image})`, workspace: name });
  const deps = { engine, hostPaths: options.hostPaths, logger: options.logger, signal: options.signal, ...(options.owner !== undefined && { owner: options.owner }) };
  const prepared = await prepareGolden(deps, {
    create: {
      name,
      image: plan.golden.image,
      ...(plan.golden.runtime !== undefined && { runtime: plan.golden.runtime }),
      memoryMiB: Math.ceil(parseSizeBytes(plan.run.memory) / 1024 ** 2),
      cpus: workerCpus(plan),
    },
    source: isHostPath(repo) ? { hostPath: repo } : { url: repo },
    dest: GOLDEN_REPO_DIR,
    setup: plan.golden.setup,
    setupTimeoutMs: GOLDEN_SETUP_TIMEOUT_MS,
    setupNetwork: plan.golden.network,
    snapshot: plan.golden.snapshot,
    // VM workers resume the golden's saved machine (a memory snapshot) instead of each booting
    snapshotMemory: true,
    keepOnFailure: false,
    beforeSnapshot: async (guest) => {
      const found = await ensureGoldenOpencode(guest, { image: plan.golden.image, signal: options.signal, ...(options.opencodeBinary !== undefined && { hostBinary: options.opencodeBinary }) });
      progress({ type: "golden", step: `opencode: ${found.source} ${found.binary} (${found.layeredBytes} bytes layered in, ${found.durationMs} ms)`, workspace: name });
    },
  });
  if (prepared.commit === null) throw new AgentisoError("INTERNAL", "the golden workspace got no repository");
  return { workspace: prepared.workspace, snapshot: prepared.snapshot, commit: prepared.commit, repoDir: GOLDEN_REPO_DIR };
}

// What every worker of the run is handed: the tasks' and the integration's.
function runContext(
  engine: Engine<GuestClient>,
  plan: Plan,
  golden: GoldenWorkspace,
  proxy: LlmProxy,
  opencode: { kind: "openai-compatible" | "openai" | "anthropic"; model: string },
  options: OrchestrateOptions,
  id: string,
  progress: (e: ProgressEvent) => void,
): TaskRunContext {
  return {
    engine,
    golden,
    proxy,
    provider: opencode,
    key: keyDeliveryFor(plan.model, options.apiKey),
    ...(plan.model.max_tokens_per_task !== undefined && { maxTokens: plan.model.max_tokens_per_task }),
    timeoutMs: taskTimeoutMs(plan),
    stallTimeoutMs: stallTimeoutMs(plan),
    memoryMiB: Math.ceil(parseSizeBytes(plan.run.memory) / 1024 ** 2),
    cpus: workerCpus(plan),
    network: plan.run.network,
    workerPrefix: `w${id}`,
    caps: options.caps ?? CAP_DEFAULTS,
    keepWorkers: options.keepWorkers ?? plan.run.keep_workers,
    ...(options.owner !== undefined && { owner: options.owner }),
    logger: options.logger,
    signal: options.signal,
    progress,
    ...(options.onEvents && { onEvents: options.onEvents }),
    verify: { commands: plan.run.verify, retries: plan.run.verify_retries, timeoutMs: verifyTimeoutMs(plan) },
  };
}

// max_parallel tasks at a time (see task-pool.ts); cancelled tasks still get a result.
async function runAll(ctx: TaskRunContext, plan: Plan, options: OrchestrateOptions): Promise<TaskResult[]> {
  const progress = ctx.progress;
  for (const task of plan.task) progress({ type: "task_state", task: task.name, state: "queued" });
  const parallel = Math.min(options.maxParallel ?? plan.run.max_parallel, plan.task.length);
  return runTaskPool(ctx, plan.task, parallel);
}

function report(id: string, startedAt: Date, plan: Plan, golden: GoldenWorkspace, tasks: TaskResult[], merge: MergeResult[], cancelled: boolean): OrchestrationReport {
  return {
    id,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    cancelled,
    golden: { workspace: golden.workspace.name, snapshot: golden.snapshot, commit: golden.commit, ...(plan.golden.repo !== undefined && { repo: plan.golden.repo }) },
    model: { provider: plan.model.provider, model: plan.model.model, keyMode: plan.model.key_mode },
    tasks,
    totals: totalsOf(tasks),
    merge,
  };
}

// Each call returns the whole milliseconds since the previous one (or since creation).
function stopwatch(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const elapsed = Math.round(now - last);
    last = now;
    return elapsed;
  };
}

// Unless the plan caps it, a worker may use every core: parallel workers share them anyway.
function workerCpus(plan: Plan): number {
  return plan.run.cpus ?? availableParallelism();
}

// Sums over the tasks of a (possibly partial) run.
export function totalsOf(tasks: readonly TaskResult[]): OrchestrationReport["totals"] {
  return {
    tokens: tasks.reduce((sum, t) => addUsage(sum, t.tokens), zeroUsage()),
    costUsd: tasks.reduce((sum, t) => sum + t.costUsd, 0),
    succeeded: tasks.filter((t) => t.status === "succeeded").length,
    failed: tasks.filter((t) => t.status !== "succeeded").length,
    throttled: tasks.reduce((sum, t) => sum + (t.throttled ?? 0), 0),
  };
}
