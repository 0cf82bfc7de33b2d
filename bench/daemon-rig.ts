// A daemon of its own for benchmarks: a temp state dir, the shared image cache, the real CLI
// to start it, and an API client. Torn down (workspaces, pool, state dir) afterwards.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join, resolve } from "node:path";
import { ApiClient } from "../src/api/api-client.js";

export const REPO = resolve(import.meta.dirname, "..");
export const CLI = join(REPO, "bin", "agentiso.js");
export const BENCH_IMAGE_CACHE = "/var/cache/agentiso-test/images";

export interface DaemonRig extends AsyncDisposable {
  home: string;
  env: NodeJS.ProcessEnv;
  api: ApiClient;
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export async function startDaemonRig(extraEnv: NodeJS.ProcessEnv = {}): Promise<DaemonRig> {
  const home = mkdtempSync("/tmp/ais-bench-");
  const env = { ...process.env, AGENTISO_HOME: home, AGENTISO_IMAGE_CACHE: BENCH_IMAGE_CACHE, ...extraEnv };
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
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
