// Why a command got 137: when the thrash guard kills a process, a line in the workspace's
// console log says so, for `workspace logs` (the console log is opened for appending).
import { appendFile } from "node:fs/promises";
import type { ThrashKill } from "./thrash-guard.js";

export async function noteThrashKill(consoleLog: string, kill: ThrashKill): Promise<void> {
  const line = { time: new Date().toISOString(), level: "warn", msg: "agentiso killed a process thrashing at the workspace's memory limit", component: "agentiso-daemon", pid: kill.pid, command: kill.command, limitMiB: Math.round(kill.limitBytes / 2 ** 20) };
  await appendFile(consoleLog, `${JSON.stringify(line)}\n`).catch(() => undefined);
}
