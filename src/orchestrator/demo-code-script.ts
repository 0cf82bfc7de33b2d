// The shipped stub model's script for the demo sentence (scripts/demo.sh): the planner answers
// three subtasks that edit examples/demo-project's code; multiply and stats pass `node --test` at
// once; divide's first edit lacks its zero guard, its own test fails, and the continued session
// adds the guard; multiply and divide both replace math.js's exports line, so integration meets
// a real conflict, which the resolver merges; the reviewer approves. Deterministic by design.
import type { StubScriptInput } from "../llm/stub-script.js";
import {
  BUGGY_DIVIDE_EDIT,
  DIVIDE_GUARD,
  DIVIDE_TEST,
  EXPORTS_LINE,
  MULTIPLY_EDIT,
  MULTIPLY_TEST,
  RESOLVED_MATH_JS,
  STATS_JS,
  STATS_TEST,
} from "./demo-code-files.js";
import { RESOLVER_MARKER } from "./resolver-prompt.js";
import { REVIEW_MARKER } from "./review.js";

type Rule = NonNullable<StubScriptInput["rules"]>[number];

/** The one sentence scripts/demo.sh orchestrates. */
export const DEMO_TASK = "Grow the math library: add multiply, add divide that refuses to divide by zero, and add sum and mean of a list of numbers, each with node:test tests.";

/** The subtasks the stub planner answers for DEMO_TASK, in plan (and integration) order. */
export const DEMO_CODE_TASKS = [
  {
    name: "multiply",
    prompt: "Add multiply(a, b) to math.js, export it next to add, and test it in test/multiply.test.js with node:test.",
    files: ["math.js", "test/multiply.test.js"],
  },
  {
    name: "divide",
    prompt: "Add divide(a, b) to math.js that throws a RangeError when b is 0, export it next to add, and test both cases in test/divide.test.js with node:test.",
    files: ["math.js", "test/divide.test.js"],
  },
  {
    name: "stats",
    prompt: "Add stats.js with sum(numbers) and mean(numbers) built on add from math.js (the mean of an empty list throws a RangeError), tested in test/stats.test.js with node:test.",
    files: ["stats.js", "test/stats.test.js"],
  },
] as const;

export const DEMO_REVIEW = `## Summary
math.js gains multiply and divide (which refuses a zero divisor), stats.js adds sum and mean on top of add; every function has node:test tests.

## Risks
divide and mean throw RangeError on bad input: callers that expected Infinity or NaN must catch it.

## Follow-ups
None needed for this change.

VERDICT: approve`;

/** Whether a free-text task is the demo sentence (whitespace aside). */
export function isDemoTask(task: string): boolean {
  return task.replaceAll(/\s+/g, " ").trim() === DEMO_TASK;
}

/** Whether a plan's tasks are exactly the demo's subtasks (a generated demo plan run again). */
export function isDemoPlan(tasks: ReadonlyArray<{ name: string; prompt: string }>): boolean {
  return tasks.length === DEMO_CODE_TASKS.length && tasks.every((t, i) => t.name === DEMO_CODE_TASKS[i]!.name && t.prompt === DEMO_CODE_TASKS[i]!.prompt);
}

// The workers', the resolver's and the reviewer's rules (not the planner's).
export function demoCodeScript(): StubScriptInput {
  const [multiply, divide, stats] = DEMO_CODE_TASKS;
  return {
    rules: [
      // first: the resolver's and reviewer's prompts quote the tasks' prompts
      {
        name: "resolver",
        match: { firstUserMessageContains: RESOLVER_MARKER },
        steps: [write("math.js", RESOLVED_MATH_JS), { text: "Merged the two edits of math.js: multiply and divide are both defined and exported next to add." }],
      },
      { name: "reviewer", match: { firstUserMessageContains: REVIEW_MARKER }, steps: [{ text: DEMO_REVIEW }] },
      {
        name: "divide-fix",
        match: { firstUserMessageContains: promptMatch(divide.prompt), lastUserMessageContains: "did not pass verification" },
        countTurnsFrom: "last-user-message",
        steps: [
          { toolCalls: [{ name: "bash", arguments: { command: `sed -i 's|^  return a / b;$|${DIVIDE_GUARD}\\n  return a / b;|' math.js`, description: "guard divide against a zero divisor" } }] },
          { text: "divide now throws a RangeError when b is 0; test/divide.test.js passes." },
        ],
      },
      task(multiply.name, multiply.prompt, [edit("math.js", EXPORTS_LINE, MULTIPLY_EDIT), write("test/multiply.test.js", MULTIPLY_TEST)], "Added multiply to math.js with a test."),
      task(divide.name, divide.prompt, [edit("math.js", EXPORTS_LINE, BUGGY_DIVIDE_EDIT), write("test/divide.test.js", DIVIDE_TEST)], "Added divide to math.js with tests."),
      task(stats.name, stats.prompt, [write("stats.js", STATS_JS), write("test/stats.test.js", STATS_TEST)], "Added stats.js (sum, mean) with tests."),
    ],
    default: { text: "Nothing to do." },
  };
}

function task(name: string, prompt: string, steps: Rule["steps"], summary: string): Rule {
  return { name, match: { firstUserMessageContains: promptMatch(prompt) }, steps: [...steps, { text: summary }] };
}

// opencode sends the prompt as a JSON string literal, so match its escaped form
function promptMatch(prompt: string): string {
  return JSON.stringify(prompt).slice(1, -1).slice(0, 120);
}

function write(file: string, content: string): Rule["steps"][number] {
  return { toolCalls: [{ name: "write", arguments: { filePath: `{{workdir}}/${file}`, content } }] };
}

function edit(file: string, oldString: string, newString: string): Rule["steps"][number] {
  return { toolCalls: [{ name: "edit", arguments: { filePath: `{{workdir}}/${file}`, oldString, newString } }] };
}
