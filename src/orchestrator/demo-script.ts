// The stub model's script when a plan names no provider (offline demos, the README's main
// job): the demo's own tasks get demo-code-script.ts (they edit code); any other task writes
// one file through opencode's own `write` tool, then answers.
import type { StubScriptInput } from "../llm/stub-script.js";
import { demoCodeScript, isDemoPlan } from "./demo-code-script.js";
import type { PlanTask } from "./plan.js";

// What the shipped stub answers the workers of a plan that names no stub_script.
export function demoStubScript(tasks: readonly Pick<PlanTask, "name" | "prompt">[]): StubScriptInput {
  if (isDemoPlan(tasks)) return demoCodeScript();
  return {
    rules: tasks.map((task) => ({
      name: task.name,
      // opencode sends the prompt as a JSON string literal, so match its escaped form
      match: { firstUserMessageContains: JSON.stringify(task.prompt).slice(1, -1).slice(0, 120) },
      steps: [
        {
          toolCalls: [
            {
              name: "write",
              arguments: {
                filePath: `{{workdir}}/agentiso-demo/${task.name}.md`,
                content: `# ${task.name}\n\nWritten by opencode in an agentiso worker for the task:\n\n> ${task.prompt}\n`,
              },
            },
          ],
        },
        { text: `Done: wrote agentiso-demo/${task.name}.md.` },
      ],
    })),
  };
}
