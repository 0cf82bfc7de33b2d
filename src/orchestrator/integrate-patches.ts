// The integration's decisions, apart from where they run: each patch in order is applied and
// verified; a clean one is committed; one that conflicts or breaks verify is reverted and
// skipped, or (resolve = "agent") handed to the resolver, whose work is kept only when no
// conflict marker is left and verify passes. Unit-tested with fake steps.
import type { IntegrationProblem, IntegrationStep, ResolverRun } from "./integration-result.js";
import type { VerifyOutcome } from "./verify.js";
import { describeVerifyFailure } from "./verify.js";

/** A patch to integrate, with what the resolver is told of its task. */
export interface IntegrationCandidate {
  name: string;
  prompt: string;
  patch: string;
}

/** What the loop does to the integration workspace; the real ones are in integrate-run.ts. */
export interface IntegrationSteps {
  apply(candidate: IntegrationCandidate): Promise<{ ok: true } | { ok: false; detail: string }>;
  verify(): Promise<VerifyOutcome>;
  /** Runs the resolver agent in the workspace (it edits the work tree; it does not commit). */
  resolve(candidate: IntegrationCandidate, problem: IntegrationProblem, integrated: readonly IntegrationCandidate[]): Promise<Omit<ResolverRun, "filesChanged" | "unresolved">>;
  /** Stages the work tree: the files the commit would hold, and whether conflict markers remain. */
  stage(): Promise<{ files: string[]; markersLeft: boolean }>;
  commit(message: string): Promise<string>;
  revert(): Promise<void>;
}

export interface IntegrateOptions {
  resolve: "agent" | "skip";
  onStep?: (step: IntegrationStep) => void;
}

// Integrates the candidates in the order given; resolves with one step per candidate.
export async function integratePatches(candidates: readonly IntegrationCandidate[], steps: IntegrationSteps, options: IntegrateOptions): Promise<IntegrationStep[]> {
  const integrated: IntegrationCandidate[] = [];
  const done: IntegrationStep[] = [];
  for (const candidate of candidates) {
    const step = await integrateOne(candidate, integrated, steps, options);
    if (step.outcome !== "skipped") integrated.push(candidate);
    options.onStep?.(step);
    done.push(step);
  }
  return done;
}

async function integrateOne(candidate: IntegrationCandidate, integrated: readonly IntegrationCandidate[], steps: IntegrationSteps, options: IntegrateOptions): Promise<IntegrationStep> {
  const applied = await steps.apply(candidate);
  let problem: IntegrationProblem | undefined = applied.ok ? undefined : { kind: "conflict", detail: applied.detail };
  if (problem === undefined) {
    const verified = await steps.verify();
    if (!verified.passed) problem = { kind: "verify", detail: verifyDetail(verified) };
  }
  if (problem === undefined) return { task: candidate.name, outcome: "applied", commit: await steps.commit(`agentiso: ${candidate.name}`) };
  if (options.resolve === "skip") {
    await steps.revert();
    return { task: candidate.name, outcome: "skipped", problem };
  }
  const run = await steps.resolve(candidate, problem, integrated);
  const staged = await steps.stage();
  const unresolved = staged.markersLeft ? "conflict markers are left in the files" : await stillFailing(steps);
  const resolver: ResolverRun = { ...run, filesChanged: staged.files, ...(unresolved !== undefined && { unresolved }) };
  if (unresolved !== undefined) {
    await steps.revert();
    return { task: candidate.name, outcome: "skipped", problem, resolver };
  }
  const commit = await steps.commit(`agentiso: ${candidate.name} (${problem.kind === "conflict" ? "conflict" : "verify failure"} resolved by the resolver agent)`);
  return { task: candidate.name, outcome: "resolved", problem, resolver, commit };
}

async function stillFailing(steps: IntegrationSteps): Promise<string | undefined> {
  const verified = await steps.verify();
  return verified.passed ? undefined : `verify still fails: ${verifyDetail(verified)}`;
}

// The failing command, how it ended and its output tail, for the report and the resolver's prompt.
export function verifyDetail(outcome: Extract<VerifyOutcome, { passed: false }>): string {
  const tail = outcome.outputTail.trim();
  return `${describeVerifyFailure(outcome)}${tail ? `:\n${tail}` : ""}`;
}
