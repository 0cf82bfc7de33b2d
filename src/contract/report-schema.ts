// The orchestration report (report.json) as a schema: what the orchestrate operation returns.
import { z } from "zod";

export const TokenUsageSchema = z.object({ input: z.number(), output: z.number(), reasoning: z.number(), cacheRead: z.number(), cacheWrite: z.number() });

export const TaskVerificationSchema = z
  .discriminatedUnion("passed", [
    z.object({ passed: z.literal(true), attempts: z.number() }),
    z.object({
      passed: z.literal(false),
      attempts: z.number(),
      command: z.string().describe("The verify command that failed last"),
      exitCode: z.number().nullable(),
      timedOut: z.boolean(),
      outputTail: z.string().describe("The end of its stdout and stderr"),
    }),
  ])
  .describe("How the plan's verify commands went; attempts counts verify runs (1 + continued agent runs)");

export const TaskResultSchema = z.object({
  name: z.string(),
  status: z.enum(["succeeded", "failed", "timeout", "stalled", "error", "unverified"]).describe("unverified: the agent finished but verify did not pass; stalled: opencode printed nothing for stall_timeout"),
  reason: z.string().describe("Why it did not succeed (empty on success)"),
  summary: z.string().describe("The model's final answer"),
  toolCalls: z.array(z.object({ tool: z.string(), status: z.string(), title: z.string().optional(), error: z.string().optional() })),
  tokens: TokenUsageSchema.describe("Tokens the provider billed for the task, metered by the proxy"),
  opencodeTokens: TokenUsageSchema.describe("Tokens opencode itself reported over its steps"),
  costUsd: z.number(),
  throttled: z.number().optional().describe("Upstream 429/503 answers the proxy waited out (or passed on) for this task"),
  durationMs: z.number(),
  phasesMs: z.object({ fork: z.number(), setup: z.number(), waited: z.number(), run: z.number(), collect: z.number(), destroy: z.number(), verify: z.number().optional() }).optional(),
  filesChanged: z.array(z.string()),
  patch: z.string().describe("git diff against the golden commit"),
  worker: z.string().optional(),
  workerState: z.enum(["destroyed", "kept", "left"]).optional(),
  exitCode: z.number().nullable(),
  steps: z.number(),
  sessionId: z.string().optional(),
  verify: TaskVerificationSchema.optional(),
});

export const MergeResultSchema = z.object({
  task: z.string(),
  branch: z.string(),
  repository: z.string().describe('The host repo path, or "workspace:<golden>"'),
  ok: z.boolean(),
  commit: z.string().optional(),
  error: z.string().optional().describe("Why the patch did not apply"),
  overlapsWith: z.array(z.string()).describe("Other tasks whose patches change some of the same files (likely merge conflicts)"),
});

const RunStatusSchema = z.enum(["succeeded", "failed", "timeout", "stalled", "error"]);

export const IntegrationResultSchema = z.object({
  branch: z.string().describe("agentiso/<run>/integrated"),
  repository: z.string().describe('The host repo path, or "workspace:<golden>"'),
  order: z.array(z.string()).describe("Tasks in the order their patches were tried"),
  steps: z.array(
    z.object({
      task: z.string(),
      outcome: z.enum(["applied", "resolved", "skipped"]),
      problem: z.object({ kind: z.enum(["conflict", "verify"]), detail: z.string() }).optional().describe("Why the patch could not simply be committed"),
      resolver: z
        .object({
          status: RunStatusSchema,
          reason: z.string(),
          summary: z.string().describe("The resolver's final answer"),
          tokens: TokenUsageSchema,
          durationMs: z.number(),
          filesChanged: z.array(z.string()),
          unresolved: z.string().optional().describe("Why its work was not kept"),
        })
        .optional(),
      commit: z.string().optional(),
    }),
  ),
  verify: z.object({ passed: z.boolean(), commands: z.number(), detail: z.string().optional() }).describe("Verify on the integrated branch at the end"),
  landed: z.boolean(),
  commit: z.string().optional(),
  error: z.string().optional().describe("Why the branch did not land"),
  workspace: z.string(),
  workspaceState: z.enum(["destroyed", "kept", "left"]),
});

export const ReviewResultSchema = z.object({
  file: z.string().describe("review.md in the results directory"),
  verdict: z.enum(["approve", "reject", "none"]),
  gate: z.boolean(),
  status: RunStatusSchema,
  reason: z.string(),
  text: z.string().describe("The reviewer's answer"),
  tokens: TokenUsageSchema,
});

export const OrchestrationReportSchema = z.object({
  id: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  stagesMs: z.object({ golden: z.number(), tasks: z.number(), merge: z.number() }).optional(),
  cancelled: z.boolean(),
  golden: z.object({ workspace: z.string(), snapshot: z.string(), commit: z.string(), repo: z.string().optional() }),
  model: z.object({ provider: z.string(), model: z.string(), keyMode: z.string() }),
  tasks: z.array(TaskResultSchema),
  totals: z.object({
    tokens: TokenUsageSchema,
    costUsd: z.number(),
    succeeded: z.number(),
    failed: z.number(),
    throttled: z.number().optional().describe("Upstream 429/503 answers over all tasks"),
  }),
  merge: z.array(MergeResultSchema),
  planner: z
    .object({
      planPath: z.string().describe("The generated plan.toml"),
      planOnly: z.boolean().describe("The run stopped after planning: tasks is empty"),
      attempts: z.number().describe("Planning runs (1, or 2 after a refused answer)"),
      tokens: TokenUsageSchema.describe("Tokens the planner's runs were billed (also in totals)"),
      costUsd: z.number(),
      durationMs: z.number(),
      tasks: z.array(z.string()).describe("The generated tasks' names"),
      dropped: z.number().describe("Subtasks beyond maxTasks that were left out"),
      worker: z.string().describe("The planner's fork (destroyed unless workers are kept)"),
    })
    .optional()
    .describe("Set when the tasks came from a free-text task"),
  integration: IntegrationResultSchema.optional(),
  review: ReviewResultSchema.optional(),
});
