// Starting and ending the QEMU process of a workspace. QEMU runs with -daemonize: the command
// returns once QEMU has opened every device and socket (or failed doing so), and the machine
// outlives the daemon, like a container does. It joins its cgroup before exec, through sh.
import { readdir, readFile } from "node:fs/promises";
import { AgentisoError } from "../../core/errors.js";
import { isRunning, waitForExit } from "../../core/process-state.js";
import { runCommand } from "../../core/run-command.js";

const LAUNCH_TIMEOUT_MS = 30_000;

// Runs QEMU (argv includes -daemonize and -pidfile pidFile) inside the cgroups; returns its pid.
export async function launchQemu(argv: readonly string[], options: { cgroupProcs: string[]; pidFile: string; logPath: string; signal?: AbortSignal }): Promise<number> {
  // $1: log file, $2: number of cgroup.procs files, then those files, then QEMU's argv.
  const script = 'log="$1"; n="$2"; shift 2; while [ "$n" -gt 0 ]; do echo $$ > "$1"; shift; n=$((n-1)); done; exec "$@" </dev/null >>"$log" 2>&1';
  const result = await runCommand(["sh", "-c", script, "sh", options.logPath, String(options.cgroupProcs.length), ...options.cgroupProcs, ...argv], {
    timeoutMs: LAUNCH_TIMEOUT_MS,
    check: false,
    ...(options.signal && { signal: options.signal }),
  });
  if (result.exitCode !== 0) {
    const log = await readFile(options.logPath, "utf8").catch(() => "");
    throw new AgentisoError("BACKEND_FAILED", `QEMU did not start (exit ${result.exitCode}): ${log.slice(-2000).trim() || result.stderr.trim()}`);
  }
  const pid = await readPidFile(options.pidFile);
  if (pid === undefined) throw new AgentisoError("BACKEND_FAILED", `QEMU started but wrote no pid file at ${options.pidFile}`);
  return pid;
}

// The pid in a QEMU pid file, if the file exists and holds one.
export async function readPidFile(path: string): Promise<number | undefined> {
  const text = await readFile(path, "utf8").catch(() => "");
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

// True when pid is alive and is the QEMU process started under `name` (pids are reused).
export async function isQemuOf(pid: number, name: string): Promise<boolean> {
  if (!(await isRunning(pid))) return false;
  return argvNames(await processArgv(pid)).includes(name);
}

// A process's argv from /proc (empty when it is gone).
export async function processArgv(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0");
}

// The value after `flag` in an argv, if present.
export function argvValue(argv: readonly string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at >= 0 ? argv[at + 1] : undefined;
}

// The workspace names in a QEMU argv: the value of -name (`<name>[,process=...]`).
export function argvNames(argv: readonly string[]): string[] {
  const names: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === "-name" && argv[i + 1]) names.push(argv[i + 1]!.split(",")[0]!);
  });
  return names;
}

// SIGKILL and wait: the last resort when neither the guest nor QMP ended the machine.
export async function killQemu(pid: number, timeoutMs = 5_000): Promise<void> {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return; // already gone
  }
  if (!(await waitForExit(pid, timeoutMs))) throw new AgentisoError("BACKEND_FAILED", `QEMU process ${pid} did not exit after SIGKILL`);
}

// Pids of running processes whose argv satisfies `matches` (QEMU instances outside any record).
export async function findProcesses(matches: (argv: string[]) => boolean): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (/^\d+$/.test(entry) && matches(await processArgv(Number(entry)))) pids.push(Number(entry));
  }
  return pids;
}
