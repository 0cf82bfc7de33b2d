// Files of an orchestration's results directory that the dashboard serves or reads: report.json,
// report.md, <task>.patch and <task>.events.ndjson, nothing else. A run id or task name in a URL
// is hostile input: the directory comes only from the daemon's own run index, a file name must
// be one of those four shapes with a task name as plans allow it (no `/`, no `..`), and the
// resolved path must sit directly in the directory. Files are opened with O_NOFOLLOW (a symlink
// planted where a report goes is refused), must be regular files, and are read bounded.
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { AgentisoError } from "../core/errors.js";

/** A task name as plans allow it (orchestrator/plan.ts TaskName), plus the planner's runs. */
const TASK = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const RUN_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const READ_NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export type RunFileKind = "report" | "markdown" | "patch" | "events";

// Whether a run id from a URL has the shape the board gives ids (it is then looked up, never joined).
export function isRunId(id: string): boolean {
  return RUN_ID.test(id);
}

// Whether a task name from a URL may name files (a plan's task name).
export function isTaskName(name: string): boolean {
  return TASK.test(name) && !name.includes("..");
}

// The kind of an allowed file name, or undefined for anything else.
export function runFileKind(file: string): RunFileKind | undefined {
  if (file === "report.json") return "report";
  if (file === "report.md") return "markdown";
  const task = /^(.+)\.(patch|events\.ndjson)$/.exec(file);
  if (!task || !isTaskName(task[1]!)) return undefined;
  return task[2] === "patch" ? "patch" : "events";
}

// The absolute path of `file` directly inside `dir`; INVALID_INPUT for any other name.
export function resolveRunFile(dir: string, file: string): string {
  const base = resolve(dir);
  const path = resolve(base, file);
  if (runFileKind(file) === undefined || dirname(path) !== base || path !== join(base, file)) {
    throw new AgentisoError("INVALID_INPUT", `not a file of a run's results: ${JSON.stringify(file.slice(0, 100))}`);
  }
  return path;
}

// Opens a results file for reading: no symlink, a regular file, at most maxBytes (TOO_LARGE beyond).
export async function openRunFile(path: string, maxBytes: number): Promise<{ file: FileHandle; size: number }> {
  const file = await open(path, READ_NO_FOLLOW).catch((err: NodeJS.ErrnoException) => {
    throw new AgentisoError(err.code === "ENOENT" ? "NOT_FOUND" : "INVALID_INPUT", `cannot open ${path}: ${err.code ?? err.message}`);
  });
  const stat = await file.stat();
  if (!stat.isFile() || stat.size > maxBytes) {
    await file.close();
    throw new AgentisoError(stat.isFile() ? "TOO_LARGE" : "INVALID_INPUT", stat.isFile() ? `${path} is over ${maxBytes} bytes` : `${path} is not a regular file`);
  }
  return { file, size: stat.size };
}

// The whole file as text (at most maxBytes).
export async function readRunFile(path: string, maxBytes: number): Promise<string> {
  const { file, size } = await openRunFile(path, maxBytes);
  try {
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await file.read(buffer, 0, size, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await file.close();
  }
}

// The first and last `endBytes` of a file of any size, and how many bytes between them were skipped.
export async function readRunFileEnds(path: string, endBytes: number): Promise<{ head: string; tail: string; skippedBytes: number }> {
  const { file, size } = await openRunFile(path, Number.MAX_SAFE_INTEGER);
  try {
    const read = async (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      return buffer.subarray(0, bytesRead).toString("utf8");
    };
    if (size <= 2 * endBytes) return { head: await read(0, size), tail: "", skippedBytes: 0 };
    return { head: await read(0, endBytes), tail: await read(size - endBytes, endBytes), skippedBytes: size - 2 * endBytes };
  } finally {
    await file.close();
  }
}
