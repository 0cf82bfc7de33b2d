// What the planner's opencode is asked: read the repository, do not edit it, and answer with a
// JSON list of subtasks. Both prompts carry PLANNER_MARKER so a stub script can answer them
// (docs/llm.md, "Scripting the planner").

/** In every planning prompt; the retry prompt also carries PLANNER_RETRY_MARKER. */
export const PLANNER_MARKER = "agentiso-planner:";
export const PLANNER_RETRY_MARKER = "agentiso-planner-retry:";

// The first planning prompt for a free-text task.
export function planningPrompt(task: string, maxTasks: number): string {
  return [
    `${PLANNER_MARKER} you are planning work for up to ${maxTasks} coding agents that will run in parallel, each in its own copy of this repository (the current directory).`,
    "Read the repository as much as you need (read, glob, grep), but do NOT edit, write or create any file and do not run commands that change anything.",
    `Split the following task into at most ${maxTasks} independent subtasks that can be done in parallel without touching the same files where possible:`,
    "",
    task,
    "",
    "Your final answer must be ONLY a JSON list, in a ```json fenced block, of this shape:",
    '[{"name": "short-name", "prompt": "complete instructions for one agent", "files": ["path/one", "path/two"]}]',
    "name: lowercase a-z 0-9 _ . - (at most 63 characters, unique); prompt: self-contained (the agent sees nothing else); files: the files the subtask expects to touch.",
  ].join("\n");
}

// The second (and last) attempt: the same request with why the first answer was refused.
export function retryPrompt(task: string, maxTasks: number, error: string): string {
  return `${PLANNER_RETRY_MARKER} your previous answer was refused: ${error}\nAnswer again, following the format exactly.\n\n${planningPrompt(task, maxTasks)}`;
}
