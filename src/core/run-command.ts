// The one way to run a host tool. Errors carry the command, the exit code and the tail of
// stderr, so a failing `btrfs` or `runc` call explains itself. Spawning costs 8-15 ms on
// these machines: callers batch where they can (ip -batch, one nft -f, one btrfs call).
import { spawn } from "node:child_process";
import { AgentisoError } from "./errors.js";
import { hostToolEnv } from "./host-env.js";

export interface RunOptions {
  /** Bytes written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  cwd?: string;
  /** Full environment for the child (default: hostToolEnv(), never the daemon's whole environment). */
  env?: NodeJS.ProcessEnv;
  /** Killed with SIGKILL after this long; default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** When false, a non-zero exit is returned instead of thrown. Default true. */
  check?: boolean;
  /** Cap on captured stdout/stderr each; the rest is dropped. Default 16 MiB. */
  maxOutputBytes?: number;
}

export interface RunResult {
  exitCode: number;
  /** Set when the process died from a signal. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const STDERR_TAIL_CHARS = 2000;

// Runs argv (no shell) and resolves with its output; throws BACKEND_FAILED on failure when check.
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new AgentisoError("INTERNAL", "runCommand needs a command");
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxBytes = options.maxOutputBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? hostToolEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout = new OutputBuffer(maxBytes);
    const stderr = new OutputBuffer(maxBytes);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    const onAbort = () => child.kill("SIGKILL");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on("error", () => {}); // the child may exit without reading its input
    child.stdin.end(options.input ?? "");
    child.on("error", (err) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      reject(
        new AgentisoError("BACKEND_FAILED", missing ? `${file} is not installed (run \`agentiso check\`)` : `${file} failed to start: ${err.message}`, {
          cause: err,
          details: { command: argv.join(" ") },
        }),
      );
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      const result: RunResult = { exitCode: code ?? 128 + 9, signal, stdout: stdout.text(), stderr: stderr.text() };
      if (options.signal?.aborted) {
        reject(new AgentisoError("CANCELLED", `${describe(argv)} was cancelled`, { cause: options.signal.reason }));
      } else if (timedOut) {
        reject(new AgentisoError("TIMEOUT", `${describe(argv)} did not finish within ${timeoutMs} ms`, { details: { command: argv.join(" ") } }));
      } else if (options.check !== false && (code !== 0 || signal)) {
        reject(commandFailed(argv, result));
      } else {
        resolve(result);
      }
    });
  });
}

export function commandFailed(argv: readonly string[], result: RunResult): AgentisoError {
  const tail = result.stderr.trim().slice(-STDERR_TAIL_CHARS) || result.stdout.trim().slice(-STDERR_TAIL_CHARS);
  const how = result.signal ? `was killed by ${result.signal}` : `exited with ${result.exitCode}`;
  return new AgentisoError("BACKEND_FAILED", `${describe(argv)} ${how}${tail ? `: ${tail}` : ""}`, {
    details: { command: argv.join(" "), exitCode: result.exitCode, stderrTail: tail },
  });
}

function describe(argv: readonly string[]): string {
  const shown = argv.slice(0, 4).join(" ");
  return `\`${argv.length > 4 ? shown + " …" : shown}\``;
}

class OutputBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly maxBytes: number) {}
  push(chunk: Buffer): void {
    if (this.size >= this.maxBytes) return;
    const room = this.maxBytes - this.size;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}
