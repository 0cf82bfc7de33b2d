// Runs opencode directly on the host: used by tests and by the bench baseline that the
// in-workspace runs are compared with. The child leads its own process group so a
// timeout or abort kills opencode and everything it started (bash tool children, LSPs).
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withDeadline } from "../../core/deadline.js";
import { AgentisoError } from "../../core/errors.js";
import { runCommand } from "../../core/run-command.js";
import { buildOpencodeCommand, type OpencodeCommandInput } from "./opencode-command.js";
import { OpencodeEventParser, type OpencodeEvent } from "./parse-events.js";
import { judgeOpencodeRun, type OpencodeRunResult } from "./run-outcome.js";

export interface HostRunOptions {
  cwd: string;
  prompt: string;
  config: Record<string, unknown>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Path of the opencode binary; default "opencode" on PATH. */
  binary?: string;
  keyEnv?: OpencodeCommandInput["keyEnv"];
  /** PATH etc. for opencode's tools; default: PATH of this process. */
  baseEnv?: Record<string, string>;
  /** Keep HOME/XDG dirs (logs, session db) for inspection; default false. */
  keepRunDir?: boolean;
  /** Called with each event as it arrives (progress display). */
  onEvent?: (event: OpencodeEvent) => void;
}

export interface HostRunResult {
  result: OpencodeRunResult;
  events: OpencodeEvent[];
  stderr: string;
  runDir: string;
}

const KILL_GRACE_MS = 2_000;
const STDERR_KEEP_CHARS = 16_384;

// Runs one prompt to completion (or timeout/abort) and judges it; only a failure to start throws.
export async function runOpencodeOnHost(options: HostRunOptions): Promise<HostRunResult> {
  const runDir = await mkdtemp(join(tmpdir(), "agentiso-opencode-"));
  try {
    const command = buildOpencodeCommand({
      prompt: options.prompt,
      config: options.config,
      runDir,
      binary: options.binary,
      keyEnv: options.keyEnv,
      baseEnv: options.baseEnv ?? { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    for (const dir of command.dirs) await mkdir(dir, { recursive: true });
    for (const file of command.files) await writeFile(file.path, file.content);
    const before = await gitStatus(options.cwd);
    const started = performance.now();
    const child = await runChild(command.argv, command.env, options);
    if (options.signal?.aborted) throw new AgentisoError("CANCELLED", "opencode run was cancelled", { cause: options.signal.reason });
    const after = await gitStatus(options.cwd);
    const parsed = child.parser.end();
    const result = judgeOpencodeRun(parsed, {
      exitCode: child.exitCode,
      timedOut: child.timedOut,
      filesChanged: before === undefined || after === undefined ? undefined : before !== after,
      durationMs: Math.round(performance.now() - started),
      stderrTail: child.stderr.slice(-2000),
    });
    return { result, events: parsed.events, stderr: child.stderr, runDir };
  } finally {
    if (!options.keepRunDir) await rm(runDir, { recursive: true, force: true });
  }
}

interface ChildOutcome {
  parser: OpencodeEventParser;
  exitCode: number | null;
  timedOut: boolean;
  stderr: string;
}

// Not runCommand: this needs its own process group, streamed stdout and a graceful kill.
function runChild(argv: string[], env: Record<string, string>, options: HostRunOptions): Promise<ChildOutcome> {
  const [file, ...args] = argv;
  const parser = new OpencodeEventParser();
  let stderr = "";
  let timedOut = false;
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // the group is already gone
      }
    };
    const stop = () => {
      killGroup("SIGTERM");
      setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS).unref();
    };
    const deadline = withDeadline(options.timeoutMs, options.signal);
    const onDeadline = () => {
      timedOut = !options.signal?.aborted; // the caller's abort is a cancel, not a timeout
      stop();
    };
    deadline.addEventListener("abort", onDeadline, { once: true });
    child.stdout.on("data", (chunk: Buffer) => parser.push(chunk).forEach((event) => options.onEvent?.(event)));
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_KEEP_CHARS)));
    child.on("error", (err) => {
      deadline.removeEventListener("abort", onDeadline);
      reject(new AgentisoError("BACKEND_FAILED", `cannot start ${file}: ${err.message}`, { cause: err }));
    });
    // leftovers opencode started and did not wait for would hold stdout open: end them too
    child.on("exit", () => killGroup("SIGKILL"));
    child.on("close", (code) => {
      deadline.removeEventListener("abort", onDeadline);
      resolve({ parser, exitCode: code, timedOut, stderr });
    });
  });
}

async function gitStatus(cwd: string): Promise<string | undefined> {
  const result = await runCommand(["git", "-C", cwd, "status", "--porcelain", "--untracked-files=all"], { check: false, timeoutMs: 30_000 });
  return result.exitCode === 0 ? result.stdout : undefined;
}
