// A daemon of its own for benchmarks: a temp state dir, the shared image cache, the real CLI
// to start it, and an API client. Torn down (workspaces, pool, state dir) afterwards.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ApiClient } from "../src/api/api-client.js";

export const REPO = resolve(import.meta.dirname, "..");
export const CLI = join(REPO, "bin", "agentiso.js");
export const BENCH_IMAGE_CACHE = "/var/cache/agentiso-test/images";

export interface DaemonRig extends AsyncDisposable {
  home: string;
  env: NodeJS.ProcessEnv;
  api: ApiClient;
  /** Runs the CLI against this daemon; onStderrLine sees each stderr line as it arrives. */
  cli(args: string[], onStderrLine?: (line: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

// configToml: written to the state dir's config.toml before the daemon starts (e.g. [[pool.entries]]).
export async function startDaemonRig(extraEnv: NodeJS.ProcessEnv = {}, options: { configToml?: string } = {}): Promise<DaemonRig> {
  const home = mkdtempSync("/tmp/ais-bench-");
  if (options.configToml !== undefined) writeFileSync(join(home, "config.toml"), options.configToml, { mode: 0o600 });
  const env = { ...process.env, AGENTISO_HOME: home, AGENTISO_IMAGE_CACHE: BENCH_IMAGE_CACHE, ...extraEnv };
  const cli = (args: string[], onStderrLine?: (line: string) => void) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      // the launcher itself, as a user's shell runs it (bin/agentiso.js: sh, then node)
      const child = spawn(CLI, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      let partial = "";
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
        const lines = (partial + c.toString()).split("\n");
        partial = lines.pop()!;
        for (const line of lines) onStderrLine?.(line);
      });
      child.on("close", (code) => done({ code, stdout, stderr }));
    });
  const started = await cli(["daemon"]);
  if (started.code !== 0) throw new Error(`daemon did not start: ${started.stderr}`);
  return {
    home,
    env,
    api: new ApiClient({ socketPath: join(home, "agentiso.sock") }),
    cli,
    async [Symbol.asyncDispose]() {
      const down = await cli(["teardown", "--purge"]);
      if (down.code !== 0) throw new Error(`teardown of ${home} failed: ${down.stderr}`);
    },
  };
}
