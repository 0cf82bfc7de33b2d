// The shipped stub model's script for a free-text task (no provider, no stub_script): the
// planner is answered with up to three parts of the task, and each part's worker writes its
// file as in demo-script.ts. The generated plan.toml, run later, gets the same answers.
import type { StubScriptInput } from "../llm/stub-script.js";
import { demoStubScript } from "./demo-script.js";
import type { PlanTask } from "./plan.js";
import { PLANNER_MARKER } from "./planner-prompt.js";

// The subtasks the stub planner proposes for a task.
export function demoPlannedTasks(task: string, maxTasks: number): Array<Pick<PlanTask, "name" | "prompt"> & { files: string[] }> {
  const count = Math.min(3, maxTasks);
  const summary = task.replaceAll(/\s+/g, " ").trim().slice(0, 200);
  return Array.from({ length: count }, (_, i) => ({
    name: `part-${i + 1}`,
    prompt: `Part ${i + 1} of ${count} of the task: ${summary}`,
    files: [`agentiso-demo/part-${i + 1}.md`],
  }));
}

export function demoPlannerScript(task: string, maxTasks: number): StubScriptInput {
  const planned = demoPlannedTasks(task, maxTasks);
  const answer = "```json\n" + JSON.stringify(planned, null, 2) + "\n```";
  const workers = demoStubScript(planned.map((t) => ({ ...t, workdir: "/workspace" })));
  return { rules: [{ name: "planner", match: { firstUserMessageContains: PLANNER_MARKER }, steps: [{ text: answer }] }, ...(workers.rules ?? [])] };
}
