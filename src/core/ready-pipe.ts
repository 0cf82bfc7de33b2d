// How a background daemon tells the CLI that started it how its start ended: one line on an
// inherited pipe — `ready`, or `failed {"code","message"}` naming the step that failed and its
// stderr (a host tool's error carries both) — so the CLI can report the daemon's own error
// instead of an exit code and a log path.
import { closeSync, writeSync } from "node:fs";
import { AgentisoError, ERROR_CODES, toAgentisoError, type ErrorCode } from "./errors.js";

export type StartOutcome = { ready: true } | { ready: false; error: AgentisoError };

// The daemon's end: says once how the start went, then closes the pipe. No fd: does nothing.
export function startReporter(fd: number | undefined): { ready(): void; failed(err: unknown): void } {
  let open = fd !== undefined;
  const say = (line: string) => {
    if (!open || fd === undefined) return;
    open = false;
    try {
      writeSync(fd, line + "\n");
    } catch {
      // the CLI that started us is gone: nobody is waiting for the answer
    } finally {
      closeSync(fd);
    }
  };
  return {
    ready: () => say("ready"),
    failed: (err) => say(`failed ${JSON.stringify(toAgentisoError(err).toJSON())}`),
  };
}

// The CLI's end: the outcome in what the daemon wrote, or undefined when it wrote no full line.
export function parseStartLine(text: string): StartOutcome | undefined {
  const line = text.split("\n", 1)[0] ?? "";
  if (!text.includes("\n")) return undefined;
  if (line === "ready") return { ready: true };
  if (!line.startsWith("failed ")) return undefined;
  try {
    const { code, message } = JSON.parse(line.slice("failed ".length)) as { code: ErrorCode; message: string };
    return { ready: false, error: new AgentisoError(ERROR_CODES.includes(code) ? code : "INTERNAL", String(message)) };
  } catch {
    return undefined;
  }
}
