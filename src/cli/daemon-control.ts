// Finds the daemon of a state dir or starts it in the background. The child says how its start
// went on fd 3 (a pipe: `ready`, or the error of the step that failed), so nothing here polls
// or sleeps, and a failed start reports the daemon's own error.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, statSync } from "node:fs";
import { ensureStateDir } from "../core/state-dir.js";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { ApiClient } from "../api/api-client.js";
import type { Config } from "../config/config.js";
import { controlSocketPath, daemonLogPath } from "../config/paths.js";
import { AgentisoError } from "../core/errors.js";
import { isRunning } from "../core/process-state.js";
import { parseStartLine, type StartOutcome } from "../core/ready-pipe.js";
import { readTail } from "../core/read-tail.js";
import { readLockHolder } from "../engine/state-lock.js";

const START_ATTEMPTS = 3;
const LOG_TAIL_BYTES = 2048;

export async function isDaemonRunning(config: Config): Promise<boolean> {
  try {
    await new ApiClient({ socketPath: controlSocketPath(config) }).health({ timeoutMs: 2000 });
    return true;
  } catch {
    return false;
  }
}

// Returns a client of the running daemon, starting one when none answers.
export async function ensureDaemon(config: Config, options: { session?: string; startTimeoutMs?: number } = {}): Promise<ApiClient> {
  const client = new ApiClient({ socketPath: controlSocketPath(config), ...(options.session !== undefined && { session: options.session }) });
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  for (let attempt = 1; ; attempt++) {
    if (await isDaemonRunning(config)) return client;
    const outcome = await startDaemonInBackground(config, timeoutMs);
    if (outcome === "started") return client;
    // Two CLIs may race to start the daemon: the loser's child finds the engine lock taken
    // while the winner's is still opening the engine. Wait for the winner; should the winner
    // fail, its own CLI reports why, and this one tries again (and meets the same error).
    if (await waitForLockHolder(config, timeoutMs)) return client;
    if (attempt >= START_ATTEMPTS) throw new AgentisoError("BACKEND_FAILED", `no daemon stayed up on ${controlSocketPath(config)} after ${attempt} starts (see ${daemonLogPath(config)})`);
  }
}

// True once the daemon holding the engine lock answers; false when that daemon exits first.
async function waitForLockHolder(config: Config, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isDaemonRunning(config))) {
    const holder = readLockHolder(config.home);
    if (holder === undefined || !(await isRunning(holder))) return isDaemonRunning(config);
    if (Date.now() > deadline) throw new AgentisoError("TIMEOUT", `no daemon answered on ${controlSocketPath(config)} within ${timeoutMs} ms (see ${daemonLogPath(config)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

async function startDaemonInBackground(config: Config, timeoutMs: number): Promise<"started" | "lost-race"> {
  ensureStateDir(config.home);
  const logPath = daemonLogPath(config);
  const log = openSync(logPath, "a", 0o600);
  const logStart = statSync(logPath).size;
  // The running CLI entry (bin/agentiso.js or dist/cli.mjs) starts the daemon as itself.
  const cli = process.argv[1] ?? fileURLToPath(new URL(import.meta.url));
  const child = spawn(process.execPath, [cli, "daemon", "--foreground", "--ready-fd", "3"], {
    detached: true,
    stdio: ["ignore", log, log, "pipe"],
    env: { ...process.env, AGENTISO_HOME: config.home },
  });
  closeSync(log);
  const pipe = child.stdio[3] as Readable;
  try {
    const { outcome, exit } = await startOutcome(child, pipe, timeoutMs);
    if (outcome?.ready) return "started";
    if (outcome?.error.code === "CONFLICT") return "lost-race";
    if (outcome) throw new AgentisoError(outcome.error.code, `the daemon could not start: ${outcome.error.message} (log: ${logPath})`);
    if (exit === undefined) throw new AgentisoError("TIMEOUT", `the daemon did not start within ${timeoutMs} ms (see ${logPath})`);
    // It died without saying why (killed, or failed before it could): its log has the rest.
    const appended = statSync(logPath).size - logStart;
    const tail = appended > 0 ? (await readTail(logPath, Math.min(appended, LOG_TAIL_BYTES))).trimEnd() : "(nothing)";
    throw new AgentisoError("BACKEND_FAILED", `the daemon exited during start (${exit}); it wrote to ${logPath}:\n${tail}`);
  } finally {
    pipe.destroy();
    child.unref();
  }
}

// Waits for the daemon's line on the pipe, or its exit, or the timeout (then both undefined).
async function startOutcome(child: ChildProcess, pipe: Readable, timeoutMs: number): Promise<{ outcome?: StartOutcome; exit?: string }> {
  let said = "";
  let exit: string | undefined;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = () => (clearTimeout(timer), resolve());
    pipe.on("data", (chunk: Buffer) => {
      said += chunk.toString();
      if (parseStartLine(said)) done();
    });
    // A line written just before exiting may still be in the pipe when "exit" fires: read to its
    // end (bounded: a child of the daemon may have inherited the pipe and hold it open).
    child.once("exit", (code, signal) => {
      exit = signal ? `killed by ${signal}` : `code ${String(code)}`;
      if (pipe.readableEnded) return done();
      pipe.once("end", done);
      setTimeout(done, 1000).unref();
    });
  });
  const outcome = parseStartLine(said);
  return { ...(outcome && { outcome }), ...(exit !== undefined && { exit }) };
}
