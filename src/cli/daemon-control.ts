// Finds the daemon of a state dir or starts it in the background. The child signals readiness
// on fd 3 (a pipe) once its control socket listens, so nothing here polls or sleeps.
import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { ensureStateDir } from "../core/state-dir.js";
import { fileURLToPath } from "node:url";
import { ApiClient } from "../api/api-client.js";
import type { Config } from "../config/config.js";
import { controlSocketPath, daemonLogPath } from "../config/paths.js";
import { AgentisoError } from "../core/errors.js";
import { daemonEnvironment } from "./daemon-env.js";
import { EXIT_CODES } from "./exit-codes.js";

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
  if (await isDaemonRunning(config)) return client;
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const outcome = await startDaemonInBackground(config, timeoutMs);
  // Two CLIs may race to start the daemon: the loser's child exits with CONFLICT while the
  // winner's is still opening the engine. Wait for the winner to answer.
  if (outcome === "lost-race") await waitUntilRunning(config, timeoutMs);
  return client;
}

async function waitUntilRunning(config: Config, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isDaemonRunning(config))) {
    if (Date.now() > deadline) throw new AgentisoError("TIMEOUT", `no daemon answered on ${controlSocketPath(config)} within ${timeoutMs} ms (see ${daemonLogPath(config)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function startDaemonInBackground(config: Config, timeoutMs: number): Promise<"started" | "lost-race"> {
  ensureStateDir(config.home);
  const log = openSync(daemonLogPath(config), "a", 0o600);
  // The running CLI entry (bin/agentiso.js or dist/cli.mjs) starts the daemon as itself.
  const cli = process.argv[1] ?? fileURLToPath(new URL(import.meta.url));
  const child = spawn(process.execPath, [cli, "daemon", "--foreground", "--ready-fd", "3"], {
    detached: true,
    stdio: ["ignore", log, log, "pipe"],
    env: daemonEnvironment(process.env, config.home),
  });
  closeSync(log);
  const ready = child.stdio[3] as NodeJS.ReadableStream;
  try {
    return await new Promise<"started" | "lost-race">((resolve, reject) => {
      const timer = setTimeout(() => reject(new AgentisoError("TIMEOUT", `the daemon did not start within ${timeoutMs} ms (see ${daemonLogPath(config)})`)), timeoutMs);
      let text = "";
      ready.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("ready")) {
          clearTimeout(timer);
          resolve("started");
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        if (code === EXIT_CODES.CONFLICT) return resolve("lost-race");
        reject(new AgentisoError("BACKEND_FAILED", `the daemon exited during start (code ${code}): see ${daemonLogPath(config)}`));
      });
    });
  } finally {
    (ready as unknown as { destroy(): void }).destroy();
    child.unref();
  }
}
