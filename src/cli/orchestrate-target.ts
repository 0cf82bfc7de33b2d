// What `agentiso orchestrate ARG` runs: ARG naming an existing file that ends in .toml is a
// plan; anything else is a free-text task, which needs --repo and becomes a plan without
// [[task]] built from the flags (the daemon's planner writes the tasks).
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { AgentisoError } from "../core/errors.js";
import type { Plan } from "../orchestrator/plan.js";
import { numberValue, stringValue, type Values } from "./command.js";

export interface OrchestrateTarget {
  /** Validated (for a task: with the task standing in as its one task). */
  plan: Plan;
  /** What goes to the daemon as the operation's `plan`. */
  raw: Record<string, unknown>;
  baseDir: string;
  task?: { task: string; maxTasks: number; planOnly: boolean };
}

/** Flags that only make sense with a free-text task. */
const TASK_FLAGS = ["repo", "image", "setup", "network", "tasks", "plan-only", "provider", "base-url", "model", "api-key-env", "stub-script", "verify", "verify-retries", "merge", "resolve", "review"];

// A plan file, or a task with the plan the flags describe.
export async function orchestrateTarget(arg: string, values: Values): Promise<OrchestrateTarget> {
  const { DEFAULT_MAX_TASKS, loadPlanFile, parseTaskPlan } = await import("../orchestrator/plan.js");
  if (arg.endsWith(".toml") && existsSync(arg) && statSync(arg).isFile()) {
    const given = TASK_FLAGS.filter((flag) => values[flag] !== undefined);
    if (given.length > 0) throw new AgentisoError("INVALID_INPUT", `${arg} is a plan file: --${given.join(", --")} go with a free-text task (agentiso orchestrate "TASK" --repo PATH|URL)`);
    const plan = await loadPlanFile(arg);
    return { plan, raw: parseToml(await readFile(arg, "utf8")), baseDir: dirname(resolve(arg)) };
  }
  const repo = stringValue(values, "repo");
  if (repo === undefined) {
    throw new AgentisoError("INVALID_INPUT", `${JSON.stringify(arg.slice(0, 80))} is not a plan file (an existing FILE.toml); to plan a free-text task, give the repository: --repo PATH|URL`);
  }
  const raw = taskPlanFromFlags(repo, values);
  const baseDir = process.cwd();
  const maxTasks = numberValue(values, "tasks") ?? DEFAULT_MAX_TASKS;
  if ((!Number.isInteger(maxTasks) || maxTasks < 1 || maxTasks > 16)) throw new AgentisoError("INVALID_INPUT", `--tasks must be a whole number from 1 to 16, got ${maxTasks}`);
  return { plan: parseTaskPlan(raw, arg, baseDir), raw, baseDir, task: { task: arg, maxTasks, planOnly: values["plan-only"] === true } };
}

// [golden], [model], [run]'s verification and merge, and [review] from the flags; everything
// else keeps the plan's defaults.
function taskPlanFromFlags(repo: string, values: Values): Record<string, unknown> {
  const setup = values.setup;
  const golden = {
    repo,
    ...(stringValue(values, "image") !== undefined && { image: stringValue(values, "image") }),
    ...(Array.isArray(setup) && { setup }),
    ...(stringValue(values, "network") !== undefined && { network: stringValue(values, "network") }),
  };
  const model = {
    ...(stringValue(values, "provider") !== undefined && { provider: stringValue(values, "provider") }),
    ...(stringValue(values, "base-url") !== undefined && { base_url: stringValue(values, "base-url") }),
    ...(stringValue(values, "model") !== undefined && { model: stringValue(values, "model") }),
    ...(stringValue(values, "api-key-env") !== undefined && { api_key_env: stringValue(values, "api-key-env") }),
    ...(stringValue(values, "stub-script") !== undefined && { stub_script: resolve(stringValue(values, "stub-script")!) }),
  };
  const verify = values.verify;
  const run = {
    ...(Array.isArray(verify) && { verify }),
    ...(numberValue(values, "verify-retries") !== undefined && { verify_retries: numberValue(values, "verify-retries") }),
    ...(stringValue(values, "merge") !== undefined && { merge: stringValue(values, "merge") }),
    ...(stringValue(values, "resolve") !== undefined && { resolve: stringValue(values, "resolve") }),
  };
  return { golden, model, run, ...(values.review === true && { review: {} }) };
}
