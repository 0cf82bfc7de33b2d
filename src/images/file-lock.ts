// An exclusive lock on a file, shared by every process on the host (flock(2)), so two
// builders of one image never write the same cache entry. The kernel drops the lock when
// its holder dies, so a crashed build leaves no stale lock behind.
//
// Node has no flock(2): a `flock FILE sh -c 'echo locked; exec cat'` child takes the lock
// and holds it until its stdin closes. That child lives as long as the critical section,
// which `runCommand` (run to completion) cannot express, hence the one direct spawn here.
import { spawn } from "node:child_process";
import { AgentisoError } from "../core/errors.js";
import { hostToolEnv } from "../core/host-env.js";

export interface FileLock extends AsyncDisposable {
  release(): Promise<void>;
}

// Resolves once this process holds the lock on `path`; rejects with TIMEOUT after timeoutMs.
export function acquireFileLock(path: string, timeoutMs: number, signal?: AbortSignal): Promise<FileLock> {
  const waitSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const child = spawn("flock", ["-x", "-w", String(waitSeconds), path, "sh", "-c", "echo locked; exec cat"], {
    stdio: ["pipe", "pipe", "pipe"],
    env: hostToolEnv(),
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const release = async () => {
    child.stdin.end();
    await exited;
  };
  return new Promise<FileLock>((resolve, reject) => {
    let stderr = "";
    const onAbort = () => child.kill("SIGKILL");
    signal?.addEventListener("abort", onAbort, { once: true });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once("data", () => {
      signal?.removeEventListener("abort", onAbort);
      resolve({ release, [Symbol.asyncDispose]: release });
    });
    child.stdin.on("error", () => {});
    child.once("error", (err) => reject(new AgentisoError("BACKEND_FAILED", `flock failed to start: ${err.message}`, { cause: err })));
    child.once("close", (code) => {
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) return reject(new AgentisoError("CANCELLED", `waiting for lock ${path} was cancelled`));
      const message = code === 1 ? `another process held ${path} for more than ${waitSeconds} s` : `flock ${path} exited with ${code}: ${stderr.trim()}`;
      reject(new AgentisoError(code === 1 ? "TIMEOUT" : "BACKEND_FAILED", message, { details: { path } }));
    });
  });
}
