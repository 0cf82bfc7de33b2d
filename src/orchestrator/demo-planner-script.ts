// The shipped stub model's script for a free-text task (no provider, no stub_script): the demo
// sentence (DEMO_TASK) is planned into the three code tasks of demo-code-script.ts; any other
// task into up to three parts of it, each of whose workers writes its file as in
// demo-script.ts. The generated plan.toml, run later, gets the same answers.
import type { StubScriptInput } from "../llm/stub-script.js";
import { DEMO_CODE_TASKS, isDemoTask } from "./demo-code-script.js";
import { demoStubScript } from "./demo-script.js";
import type { PlanTask } from "./plan.js";
import { PLANNER_MARKER } from "./planner-prompt.js";

type PlannedTask = Pick<PlanTask, "name" | "prompt"> & { files: string[] };

// The subtasks the stub planner proposes for a task.
export function demoPlannedTasks(task: string, maxTasks: number): PlannedTask[] {
  if (isDemoTask(task) && maxTasks >= DEMO_CODE_TASKS.length) return DEMO_CODE_TASKS.map((t) => ({ ...t, files: [...t.files] }));
  const count = Math.min(3, maxTasks);
  const summary = task.replaceAll(/\s+/g, " ").trim().slice(0, 200);
  return Array.from({ length: count }, (_, i) => ({
    name: `part-${i + 1}`,
    prompt: `Part ${i + 1} of ${count} of the task: ${summary}`,
    files: [`agentiso-demo/part-${i + 1}.md`],
  }));
}

// The planner's answer first, then what the planned tasks' workers (and resolver, reviewer) answer.
export function demoPlannerScript(task: string, maxTasks: number): StubScriptInput {
  const planned = demoPlannedTasks(task, maxTasks);
  const answer = "```json\n" + JSON.stringify(planned, null, 2) + "\n```";
  const workers = demoStubScript(planned.map((t) => ({ ...t, workdir: "/workspace" })));
  return { ...workers, rules: [{ name: "planner", match: { firstUserMessageContains: PLANNER_MARKER }, steps: [{ text: answer }] }, ...(workers.rules ?? [])] };
}
