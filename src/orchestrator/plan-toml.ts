// A Plan back to PLAN.toml text: what the planner writes, complete enough that
// `agentiso orchestrate plan.toml` runs it unchanged (every default spelled out, host paths
// absolute, the [model] exactly as given).
import { stringify } from "smol-toml";
import type { Plan } from "./plan.js";

// The plan as TOML; header lines become comments on top.
export function planToToml(plan: Plan, header: readonly string[] = []): string {
  const body = stringify({
    golden: plan.golden,
    model: plan.model,
    run: plan.run,
    task: plan.task.map((task) => ({ ...task, ...(task.files !== undefined && { files: [...task.files] }) })),
  });
  return [...header.map((line) => `# ${line}`), ...(header.length > 0 ? [""] : []), body].join("\n");
}
