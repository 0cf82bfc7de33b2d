// Finds processes by a unique argv marker through /proc, so tests can prove that nothing
// they started outlives them.
import { readdirSync, readFileSync } from "node:fs";
import { delay } from "../../src/core/deadline.js";

// Pids whose command line contains marker.
export function pidsWithMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (cmdline.includes(marker) && !/\) Z /.test(stat)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

// Waits until no live process carries marker; returns the pids still alive at the deadline.
export async function waitForNoProcess(marker: string, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pidsWithMarker(marker);
  while (alive.length > 0 && Date.now() < deadline) {
    await delay(20);
    alive = pidsWithMarker(marker);
  }
  return alive;
}

// Waits until at least `count` live processes carry marker (the command really started).
export async function waitForProcess(marker: string, count = 1, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pidsWithMarker(marker);
  while (alive.length < count && Date.now() < deadline) {
    await delay(10);
    alive = pidsWithMarker(marker);
  }
  return alive;
}

/** A `sleep` duration unique to this run, usable as an argv marker. */
export function uniqueSleepSeconds(): string {
  return `${3000 + Math.floor(Math.random() * 1e6)}.${Math.floor(Math.random() * 1e6)}`;
}
