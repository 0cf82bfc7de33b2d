// What merge = "integrate" did, as written to report.json: the order the patches were tried in,
// what became of each (applied, resolved by the resolver agent, skipped), the state verify left
// the branch in, where the branch landed, and the reviewer's verdict.
import type { TokenUsage } from "../llm/token-usage.js";
import type { OpencodeRunStatus } from "./opencode/run-outcome.js";

/** Why a patch could not simply be committed: it did not apply, or verify failed after it. */
export interface IntegrationProblem {
  kind: "conflict" | "verify";
  /** git's output naming the conflicting files, or the failing verify command and its output tail. */
  detail: string;
}

/** One opencode run in the integration workspace (the resolver, the reviewer). */
export interface AgentRun {
  status: OpencodeRunStatus;
  reason: string;
  /** The agent's final answer. */
  summary: string;
  tokens: TokenUsage;
  durationMs: number;
}

export interface ResolverRun extends AgentRun {
  /** The files the step's commit holds after the resolver (the patch's and the resolver's). */
  filesChanged: string[];
  /** Why the resolver's work was not kept (conflict markers left, verify still failing); absent when it was. */
  unresolved?: string;
}

export interface IntegrationStep {
  task: string;
  outcome: "applied" | "resolved" | "skipped";
  problem?: IntegrationProblem;
  resolver?: ResolverRun;
  /** The step's commit in the integration workspace (applied and resolved steps). */
  commit?: string;
}

export interface FinalVerify {
  passed: boolean;
  /** How many verify commands the plan has (0: nothing was checked). */
  commands: number;
  /** The failing command, how it ended and its output tail, when it failed. */
  detail?: string;
}

export interface IntegrationResult {
  branch: string;
  /** Where the branch lives: the host repo path, or "workspace:<golden>". */
  repository: string;
  /** Tasks in the order their patches were tried (the plan's order; succeeded tasks with a patch). */
  order: string[];
  steps: IntegrationStep[];
  verify: FinalVerify;
  /** Whether the branch was written (not when nothing was integrated, the gate rejected it, or landing failed). */
  landed: boolean;
  commit?: string;
  /** Why it did not land. */
  error?: string;
  workspace: string;
  workspaceState: "destroyed" | "kept" | "left";
}

export interface ReviewResult {
  /** review.md in the results directory. */
  file: string;
  /** From the answer's last line `VERDICT: approve` or `VERDICT: reject`; none when it has no such line. */
  verdict: "approve" | "reject" | "none";
  gate: boolean;
  status: OpencodeRunStatus;
  reason: string;
  /** The reviewer's answer: review.md's content. */
  text: string;
  tokens: TokenUsage;
}
