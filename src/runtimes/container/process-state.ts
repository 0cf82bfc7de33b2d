// Whether a host process still runs, read from /proc. A dead workspace init may linger as a
// zombie when its parent (whoever adopted it after `runc run -d` exited) does not reap it.
import { readFile } from "node:fs/promises";
import { delay } from "../../core/deadline.js";

// True while pid exists and is not a zombie.
export async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  if (!stat) return false;
  return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
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
