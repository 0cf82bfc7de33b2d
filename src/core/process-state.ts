// Whether a host process still runs, read from /proc. A dead process may linger as a zombie
// until its parent reaps it (a workspace init adopted after `runc run -d` exited, a killed
// daemon whose parent is a slow PID 1): a zombie counts as exited.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { delay } from "./deadline.js";

// True while pid exists and is not a zombie.
export async function isRunning(pid: number): Promise<boolean> {
  return runningFromStat(await readFile(`/proc/${pid}/stat`, "utf8").catch(() => ""));
}

// isRunning for synchronous callers.
export function isRunningSync(pid: number): boolean {
  try {
    return runningFromStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function runningFromStat(stat: string): boolean {
  return stat !== "" && !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

// Resolves true once pid has exited, false when timeoutMs passed first.
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(10);
  }
  return true;
}
