// The orchestration plan (PLAN.toml): where the golden workspace comes from, which model the
// workers use and how, and the tasks. Parsed and validated once; everything after works on
// the typed Plan. docs/orchestrate.md documents every field with a full example.
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import { readBoundedFile } from "../core/host-paths.js";
import { parseDurationMs } from "../config/size.js";
import { normalizePolicy } from "../core/network-allowlist.js";

export const TaskName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, "task names use a-z 0-9 _ . - (they name patches and branches)");

// A workspace's network policy: "none", "egress", or {mode, allow, deny} (core/network-allowlist.ts)
const PlanNetwork = z
  .union([
    z.enum(["none", "egress"]),
    z.object({ mode: z.enum(["none", "egress", "allowlist"]), allow: z.array(z.string()).default([]), deny: z.array(z.string()).default([]) }).strict(),
  ])
  .transform((value, ctx) => {
    try {
      return normalizePolicy(typeof value === "string" ? { mode: value } : value);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  });

const GoldenSchema = z
  .object({
    image: z.string().default("opencode").describe("image to build the golden workspace from"),
    runtime: z.enum(["container", "vm"]).optional().describe("container or vm (QEMU microVM) for the golden workspace and every worker; default from config"),
    repo: z.string().optional().describe("git URL or host path of the repository to clone into /workspace"),
    setup: z.array(z.string()).default([]).describe("shell commands run in /workspace, in order (install dependencies)"),
    network: PlanNetwork.default({ mode: "egress", allow: [], deny: [] }).describe('network while running setup: "egress", "none" or {mode = "allowlist", allow = ["registry.npmjs.org"]}'),
    workspace: z.string().optional().describe("reuse this existing workspace instead of building one"),
    snapshot: z.string().default("golden").describe("snapshot that workers fork from"),
    keep: z.boolean().default(false).describe("keep the golden workspace after the run (to reuse it next time with golden.workspace)"),
  })
  .strict();

const ModelSchema = z
  .object({
    provider: z.enum(["stub", "openai-compatible", "openai", "anthropic"]).default("stub"),
    base_url: z.string().url().optional().describe("provider API base, e.g. https://api.openai.com/v1"),
    model: z.string().default("stub-model"),
    api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional().describe("host environment variable holding the key"),
    key_mode: z.enum(["proxy", "env"]).default("proxy").describe("proxy: the key never enters a worker; env: injected with set_env"),
    stub_script: z.string().optional().describe("stub provider only: JSON script of scripted replies"),
    max_tokens_per_task: z.number().int().positive().optional().describe("the proxy refuses further requests of a task past this"),
    max_concurrency: z.number().int().positive().optional().describe("model requests in flight at most over all workers; default no limit"),
  })
  .strict();

const RunSchema = z
  .object({
    max_parallel: z.number().int().min(1).max(64).default(4),
    timeout: z.union([z.string(), z.number()]).default("10m").describe('per task, e.g. "90s", "10m"'),
    merge: z.enum(["none", "branch-per-task", "integrate"]).default("none").describe("integrate: the verified patches applied one by one onto agentiso/<run>/integrated"),
    memory: z.string().default("1G").describe("memory per worker (opencode needs about 1 GiB)"),
    cpus: z.number().positive().max(1024).optional().describe("CPU limit per worker in cores; default: all of the host's (a 1-core cap makes opencode ~40% slower)"),
    keep_workers: z.boolean().default(false),
    network: PlanNetwork.default({ mode: "none", allow: [], deny: [] }).describe('each worker\'s network policy (like golden.network); workers reach the model through the keyless proxy over the agent tunnel whatever it is'),
    stall_timeout: z.union([z.string(), z.number()]).optional().describe('a task whose opencode prints no event this long is stopped as stalled; default "5m"'),
    // verification (docs/orchestrate.md "Verification")
    verify: z.array(z.string().min(1)).default([]).describe("shell commands run in the task's workdir after opencode finishes; all must exit 0 for the task to succeed"),
    verify_retries: z.number().int().min(0).max(5).default(0).describe("on a failed verify, continue the same opencode session with the failure this many times"),
    verify_timeout: z.union([z.string(), z.number()]).default("10m").describe("per verify command"),
    resolve: z.enum(["skip", "agent"]).default("skip").describe('merge = "integrate": a patch that conflicts or breaks verify is skipped, or handed to a resolver agent'),
  })
  .strict();

const DEFAULT_REVIEW_PROMPT =
  "Review this change as a careful senior engineer: what it does, whether it is correct and complete, what could break, and what should follow.";

const ReviewSchema = z
  .object({
    prompt: z.string().min(1).default(DEFAULT_REVIEW_PROMPT).describe("what the reviewer agent is asked, above the integrated diff"),
    gate: z.boolean().default(false).describe("true: the integrated branch lands only when the review's verdict line says approve"),
  })
  .strict();

const TaskSchema = z
  .object({
    name: TaskName,
    prompt: z.string().min(1),
    workdir: z.string().default("/workspace").describe("where opencode runs inside the worker"),
    files: z.array(z.string()).optional().describe("files the task expects to touch (written by the planner; informational)"),
  })
  .strict();

export const PlanSchema = z
  .object({
    golden: GoldenSchema.default({ image: "opencode", setup: [], network: { mode: "egress", allow: [], deny: [] }, snapshot: "golden", keep: false }),
    model: ModelSchema.default({ provider: "stub", model: "stub-model", key_mode: "proxy" }),
    run: RunSchema.default({ max_parallel: 4, timeout: "10m", merge: "none", memory: "1G", keep_workers: false, network: { mode: "none", allow: [], deny: [] }, verify: [], verify_retries: 0, verify_timeout: "10m", resolve: "skip" }),
    review: ReviewSchema.optional().describe('merge = "integrate": a reviewer agent reads the integrated diff and writes review.md'),
    task: z.array(TaskSchema).min(1, "a plan needs at least one [[task]]"),
  })
  .strict()
  .superRefine((plan, ctx) => {
    const names = plan.task.map((t) => t.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) ctx.addIssue({ code: "custom", path: ["task"], message: `task name ${duplicate} is used twice` });
    if (plan.model.provider !== "stub" && !plan.model.base_url && plan.model.provider === "openai-compatible") {
      ctx.addIssue({ code: "custom", path: ["model", "base_url"], message: "openai-compatible providers need base_url" });
    }
    if (plan.model.provider !== "stub" && !plan.model.api_key_env) {
      ctx.addIssue({ code: "custom", path: ["model", "api_key_env"], message: "name the environment variable that holds the key" });
    }
    if (plan.review !== undefined && plan.run.merge !== "integrate") {
      ctx.addIssue({ code: "custom", path: ["review"], message: 'a [review] reads the integrated branch: set [run] merge = "integrate"' });
    }
    if (!plan.golden.workspace && !plan.golden.repo) {
      ctx.addIssue({ code: "custom", path: ["golden"], message: "give golden.repo (to build a golden workspace) or golden.workspace (to reuse one)" });
    }
  });

export type Plan = z.output<typeof PlanSchema>;
export type PlanTask = Plan["task"][number];

// Validates a plan object; host paths in it (repo, stub_script) are made absolute against baseDir.
export function parsePlan(raw: unknown, baseDir: string): Plan {
  const parsed = PlanSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(plan)"}: ${i.message}`).join("; ");
    throw new AgentisoError("INVALID_INPUT", `invalid plan: ${issues}`);
  }
  const plan = parsed.data;
  parseDurationMs(plan.run.timeout);
  stallTimeoutMs(plan);
  parseDurationMs(plan.run.verify_timeout);
  if (plan.golden.repo && isHostPath(plan.golden.repo) && !isAbsolute(plan.golden.repo)) plan.golden.repo = resolve(baseDir, plan.golden.repo);
  if (plan.model.stub_script && !isAbsolute(plan.model.stub_script)) plan.model.stub_script = resolve(baseDir, plan.model.stub_script);
  return plan;
}

const MAX_PLAN_BYTES = 4 * 1024 * 1024;

// Reads and validates PLAN.toml (a regular file of at most 4 MiB).
export async function loadPlanFile(path: string): Promise<Plan> {
  const text = (await readBoundedFile(path, { maxBytes: MAX_PLAN_BYTES, what: "plan", noFollow: false })).toString("utf8");
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    throw new AgentisoError("INVALID_INPUT", `plan ${path} is not valid TOML: ${(err as Error).message}`);
  }
  return parsePlan(raw, dirname(resolve(path)));
}

/** A repo spec that is not a URL (scheme://, or git@host:path) is a host path. */
export function isHostPath(repo: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) && !/^[^/]+@[^/]+:/.test(repo);
}

export function taskTimeoutMs(plan: Plan): number {
  return parseDurationMs(plan.run.timeout);
}

/** Subtasks the planner writes when the caller names no maximum. */
export const DEFAULT_MAX_TASKS = 3;

// A plan for a free-text task: no [[task]] of its own (the planner writes them); the task
// stands in as the one task until then, so the rest of the plan is checked before anything runs.
export function parseTaskPlan(raw: Record<string, unknown>, task: string, baseDir: string): Plan {
  if (raw.task !== undefined) throw new AgentisoError("INVALID_INPUT", "give either the plan's [[task]] list or a free-text task to plan, not both");
  return parsePlan({ ...raw, task: [{ name: "planner", prompt: task }] }, baseDir);
}

const DEFAULT_STALL_TIMEOUT = "5m";

// How long a task's opencode may print no event before it is stopped as stalled.
export function stallTimeoutMs(plan: Plan): number {
  const ms = parseDurationMs(plan.run.stall_timeout ?? DEFAULT_STALL_TIMEOUT);
  if (ms < 1000) throw new AgentisoError("INVALID_INPUT", `invalid plan: run.stall_timeout must be at least 1s`);
  return ms;
}

export function verifyTimeoutMs(plan: Plan): number {
  return parseDurationMs(plan.run.verify_timeout);
}
