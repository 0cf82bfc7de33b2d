// The stub model's script when a plan names no provider (offline demos, the README's main
// job): for each task, write one file through opencode's own `write` tool, then answer.
import type { StubScriptInput } from "../llm/stub-script.js";
import type { PlanTask } from "./plan.js";

export function demoStubScript(tasks: readonly PlanTask[]): StubScriptInput {
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
