// merge = "integrate" end to end: fork one more worker from the golden, put the succeeded
// tasks' patches on agentiso/<run>/integrated there one by one (integrate-patches.ts decides),
// verify the result, let the reviewer read it ([review]), land the branch (land-integrated.ts)
// and remove the worker. The resolver and the reviewer are opencode runs in that worker,
// prepared like a task's (worker-prep.ts) and reached through the same proxy.
import { toAgentisoError } from "../core/errors.js";
import { applyPatchThreeWay, commitStep, diffBetween, revertStep, stageAll, startIntegrationBranch } from "../domain/integration-git.js";
import { integratePatches, verifyDetail, type IntegrationCandidate, type IntegrationSteps } from "./integrate-patches.js";
import type { FinalVerify, IntegrationResult, IntegrationStep, ReviewResult } from "./integration-result.js";
import { landIntegrated, landingRepository } from "./land-integrated.js";
import type { Plan } from "./plan.js";
import { resolverPrompt } from "./resolver-prompt.js";
import { parseVerdict, reviewAllowsLanding, reviewPrompt } from "./review.js";
import type { TaskRunContext } from "./task-run-context.js";
import type { TaskResult } from "./task-result.js";
import { runVerify } from "./verify.js";
import { runAgentInWorker } from "./worker-agent-run.js";
import { destroyWorker, GUEST_PATH, prepareWorker, workerName, type PreparedWorker } from "./worker-prep.js";

export interface IntegrationRun {
  integration: IntegrationResult;
  review?: ReviewResult;
}

/** Bytes of the integrated diff read back for the reviewer and the landing. */
const MAX_DIFF_BYTES = 64 * 1024 * 1024;

// Never throws: a failure before or while integrating is the result's error, and the branch does not land.
export async function runIntegration(ctx: TaskRunContext, plan: Plan, tasks: readonly TaskResult[], runId: string, options: { confinedTo?: string } = {}): Promise<IntegrationRun> {
  const candidates = candidatesOf(plan, tasks);
  const pseudoTask = { name: freeName("integration", plan), prompt: "", workdir: ctx.golden.repoDir };
  const workspace = workerName(ctx, pseudoTask);
  const result: IntegrationResult = {
    branch: `agentiso/${runId}/integrated`,
    repository: landingRepository(plan, ctx.golden),
    order: candidates.map((c) => c.name),
    steps: [],
    verify: { passed: false, commands: plan.run.verify.length },
    landed: false,
    workspace,
    workspaceState: "destroyed",
  };
  if (candidates.length === 0) return { integration: { ...result, error: "no task succeeded with a patch: nothing to integrate" } };
  ctx.progress({ type: "integrate", workspace, step: `integrating ${candidates.length} patch(es) onto ${result.branch}` });
  const prep = await prepareWorker(ctx, pseudoTask);
  if (!prep.ok) return { integration: { ...result, error: `the integration workspace could not be prepared: ${prep.reason}`, workspaceState: prep.worker === undefined ? "destroyed" : ctx.keepWorkers ? "kept" : "left" } };
  let review: ReviewResult | undefined;
  try {
    review = await integrateIn(ctx, plan, prep.worker, candidates, result, options);
  } catch (err) {
    const error = toAgentisoError(err);
    result.error = `${error.code}: ${error.message}`;
  } finally {
    await Promise.resolve(prep.worker[Symbol.asyncDispose]()).catch((err: unknown) => ctx.logger.warn("closing the model tunnel failed", { worker: workspace, err }));
    result.workspaceState = ctx.keepWorkers ? "kept" : (await destroyWorker(ctx, workspace)) === undefined ? "destroyed" : "left";
  }
  return { integration: result, ...(review !== undefined && { review }) };
}

// Fills result in place (steps, verify, landing) so a failure midway keeps what was done.
async function integrateIn(ctx: TaskRunContext, plan: Plan, worker: PreparedWorker, candidates: IntegrationCandidate[], result: IntegrationResult, options: { confinedTo?: string }): Promise<ReviewResult | undefined> {
  const git = { repoDir: ctx.golden.repoDir, signal: ctx.signal };
  // the tasks' verify: the same commands, deadline and PATH as in task-runner.ts
  const verify = () => runVerify(worker.guest, plan.run.verify, { cwd: git.repoDir, timeoutMs: ctx.verify?.timeoutMs ?? ctx.timeoutMs, signal: ctx.signal, env: { PATH: GUEST_PATH } });
  const base = await startIntegrationBranch(worker.guest, result.branch, ctx.golden.commit, git);
  const steps: IntegrationSteps = {
    apply: (candidate) => applyPatchThreeWay(worker.guest, candidate.patch, git),
    verify,
    resolve: (candidate, problem, integrated) =>
      runAgentInWorker(ctx, worker, { label: `resolve-${candidate.name}`, prompt: resolverPrompt(candidate, problem, integrated, plan.run.verify), workdir: git.repoDir }),
    stage: () => stageAll(worker.guest, git),
    commit: (message) => commitStep(worker.guest, message, git),
    revert: () => revertStep(worker.guest, git),
  };
  const onStep = (step: IntegrationStep) => {
    result.steps.push(step);
    ctx.progress({ type: "integrate", workspace: result.workspace, task: step.task, outcome: step.outcome, ...(step.problem && { detail: step.problem.detail.split("\n")[0]! }) });
  };
  await integratePatches(candidates, steps, { resolve: plan.run.resolve, onStep });
  const final = await verify();
  result.verify = finalVerify(final, plan.run.verify.length);
  const commits = result.steps.filter((s) => s.commit !== undefined);
  if (commits.length === 0) {
    result.error = "every patch was skipped: nothing to land";
    return undefined;
  }
  const head = commits.at(-1)!.commit!;
  const combined = await diffBetween(worker.guest, base, head, { ...git, maxBytes: MAX_DIFF_BYTES });
  const review = plan.review === undefined ? undefined : await runReview(ctx, plan.review, worker, candidates.filter((c) => commits.some((s) => s.task === c.name)), combined);
  if (!reviewAllowsLanding(review)) {
    result.error = `the review's verdict is ${review!.verdict} and [review] gate = true: the branch did not land`;
    return review;
  }
  const stepPatches = [];
  let previous = base;
  for (const step of commits) {
    stepPatches.push({ patch: await diffBetween(worker.guest, previous, step.commit!, { ...git, maxBytes: MAX_DIFF_BYTES }), message: [stepMessage(step)] });
    previous = step.commit!;
  }
  const landed = await landIntegrated(ctx.engine, plan, ctx.golden, { branch: result.branch, steps: stepPatches, combined, ...options, signal: ctx.signal });
  if (landed.ok) Object.assign(result, { landed: true, commit: landed.commit });
  else result.error = landed.error;
  ctx.progress({ type: "integrate", workspace: result.workspace, step: landed.ok ? `landed ${result.branch} in ${result.repository}` : `${result.branch} did not land: ${landed.error}` });
  return review;
}

async function runReview(ctx: TaskRunContext, review: NonNullable<Plan["review"]>, worker: PreparedWorker, integrated: IntegrationCandidate[], diff: string): Promise<ReviewResult> {
  const run = await runAgentInWorker(ctx, worker, { label: "review", prompt: reviewPrompt(review, integrated, diff), workdir: ctx.golden.repoDir });
  const verdict = parseVerdict(run.summary);
  ctx.progress({ type: "review", verdict, gate: review.gate });
  return { file: "review.md", verdict, gate: review.gate, status: run.status, reason: run.reason, text: run.summary, tokens: run.tokens };
}

// Succeeded tasks with a patch, in the plan's order.
function candidatesOf(plan: Plan, tasks: readonly TaskResult[]): IntegrationCandidate[] {
  return plan.task.flatMap((task) => {
    const result = tasks.find((t) => t.name === task.name);
    return result?.status === "succeeded" && result.patch.length > 0 ? [{ name: task.name, prompt: task.prompt, patch: result.patch }] : [];
  });
}

function finalVerify(outcome: Awaited<ReturnType<typeof runVerify>>, commands: number): FinalVerify {
  return outcome.passed ? { passed: true, commands } : { passed: false, commands, detail: verifyDetail(outcome) };
}

function stepMessage(step: IntegrationStep): string {
  return step.outcome === "resolved" ? `agentiso: ${step.task} (${step.problem?.kind ?? "problem"} resolved by the resolver agent)` : `agentiso: ${step.task}`;
}

// A pseudo-task name no task of the plan has (it names the worker and its proxy handle).
function freeName(wanted: string, plan: Plan): string {
  const taken = new Set(plan.task.map((t) => t.name));
  let name = wanted;
  for (let i = 2; taken.has(name); i++) name = `${wanted}-${i}`;
  return name;
}
