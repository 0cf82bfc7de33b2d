// The planner's final answer → the plan's tasks: the JSON list is found (bare, or in a fenced
// ```json block), validated against the task rules of a plan, de-duplicated and bounded. A
// model answering nonsense is a data outcome here (the reason is fed back to it once).
import { z } from "zod";
import { TaskName } from "./plan.js";

/** One subtask as the model must write it. */
const PlannedTaskSchema = z
  .object({
    name: TaskName,
    prompt: z.string().trim().min(1, "a subtask needs a non-empty prompt"),
    files: z.array(z.string()).default([]).describe("files the subtask expects to touch"),
  })
  .strip();

const PlannerAnswerSchema = z.array(PlannedTaskSchema).min(1, "the list must hold at least one subtask");

export type PlannedTask = z.output<typeof PlannedTaskSchema>;

export type PlannerAnswer = { ok: true; tasks: PlannedTask[]; dropped: number } | { ok: false; error: string };

// Reads the model's final text; at most maxTasks subtasks, in the model's order.
export function parsePlannerAnswer(text: string, maxTasks: number): PlannerAnswer {
  const json = extractJson(text);
  if (json === undefined) return { ok: false, error: "the answer holds no JSON list (expected [{\"name\", \"prompt\", \"files\"}, ...])" };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    return { ok: false, error: `the JSON list does not parse: ${(err as Error).message}` };
  }
  const listed = raw !== null && typeof raw === "object" && !Array.isArray(raw) && Array.isArray((raw as { tasks?: unknown }).tasks) ? (raw as { tasks: unknown }).tasks : raw;
  const parsed = PlannerAnswerSchema.safeParse(listed);
  if (!parsed.success) return { ok: false, error: `the JSON list is not a list of subtasks: ${z.prettifyError(parsed.error).replaceAll("\n", " ")}` };
  const unique = deduplicate(parsed.data);
  const tasks = unique.slice(0, maxTasks);
  return { ok: true, tasks, dropped: parsed.data.length - tasks.length };
}

// A fenced ```json (or bare ```) block wins; otherwise the outermost [...] of the text.
function extractJson(text: string): string | undefined {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/i.exec(text);
  if (fenced) return fenced[1]!.trim();
  const start = text.indexOf("[");
  const end = text.lastIndexOf("]");
  if (start === -1 || end <= start) {
    const object = /\{[\s\S]*\}/.exec(text);
    return object?.[0];
  }
  return text.slice(start, end + 1);
}

// The same prompt twice is one subtask (files merged); a name used again gets -2, -3, ...
function deduplicate(tasks: readonly PlannedTask[]): PlannedTask[] {
  const byPrompt = new Map<string, PlannedTask>();
  for (const task of tasks) {
    const key = task.prompt.trim();
    const seen = byPrompt.get(key);
    if (seen) seen.files = [...new Set([...seen.files, ...task.files])];
    else byPrompt.set(key, { ...task, prompt: key, files: [...new Set(task.files)] });
  }
  const names = new Set<string>();
  return [...byPrompt.values()].map((task) => {
    let name = task.name;
    for (let n = 2; names.has(name); n++) name = `${task.name.slice(0, 58)}-${n}`;
    names.add(name);
    return { ...task, name };
  });
}
