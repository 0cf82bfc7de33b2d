// Drives the real `agentiso` CLI (bin/agentiso.js, built by scripts/test.mjs) against its own
// state dir, with the shared image cache. Disposal tears everything down and reports anything
// left behind (mounts, loop devices, runc containers, processes) by name.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { TEST_IMAGE_CACHE, REPO_DIR } from "./base-image.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export const CLI = join(REPO_DIR, "bin", "agentiso.js");
/** Where the log of a daemon that failed to start is kept: the state dir goes with the test. */
export const FAILED_DAEMON_LOGS = "/tmp/agentiso-failed-daemons";
const FAILED_START = /the daemon (could not start|exited during start|did not start)/;

export class CliHarness implements AsyncDisposable {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    this.home = mkdtempSync("/tmp/ais-cli-");
    this.env = { ...process.env, AGENTISO_HOME: this.home, AGENTISO_IMAGE_CACHE: TEST_IMAGE_CACHE, ...extraEnv };
  }

  // Runs `agentiso ARGS`; never throws on a non-zero exit (the test asserts the code).
  run(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CliRun> {
    return new Promise((resolve, reject) => {
      // the launcher itself, as a user's shell runs it (bin/agentiso.js: sh, then node)
      const child = spawn(CLI, args, { env: this.env, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr: this.explain(stderr) });
      });
      child.stdin.end(options.input ?? "");
    });
  }

  // Runs and expects exit 0; returns stdout.
  async ok(args: string[]): Promise<string> {
    const result = await this.run(args);
    if (result.code !== 0) throw new Error(`agentiso ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }

  async json<T = unknown>(args: string[]): Promise<T> {
    return JSON.parse(await this.ok([...args, "--json"])) as T;
  }

  // A CLI's stderr, with the daemon's log appended (and kept) when the daemon failed to start.
  explain(stderr: string): string {
    const log = join(this.home, "daemon.log");
    if (!FAILED_START.test(stderr) || !existsSync(log)) return stderr;
    mkdirSync(FAILED_DAEMON_LOGS, { recursive: true });
    const kept = join(FAILED_DAEMON_LOGS, `${basename(this.home)}-${Date.now()}.log`);
    copyFileSync(log, kept);
    return `${stderr}\n--- the end of the daemon's log (kept at ${kept}) ---\n${readFileSync(log, "utf8").slice(-4096)}`;
  }

  daemonPid(): number | undefined {
    const lock = join(this.home, "engine.lock");
    return existsSync(lock) ? Number(readFileSync(lock, "utf8").trim()) : undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const result = await this.run(["teardown", "--purge"]);
    const leaks = leftoversOf(this.home);
    if (result.code !== 0 || leaks.length > 0) {
      throw new Error(`teardown of ${this.home} left: ${[result.code !== 0 ? `exit ${result.code}: ${result.stderr}` : "", ...leaks].filter(Boolean).join("; ")}`);
    }
  }
}

// Host resources that still reference a state dir: mounts, loop devices, processes.
export function leftoversOf(home: string): string[] {
  const leaks: string[] = [];
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    if (line.includes(home)) leaks.push(`mount ${line.split(" ")[1]}`);
  }
  for (const device of readdirSync("/sys/block").filter((d) => d.startsWith("loop"))) {
    const backing = readIfExists(`/sys/block/${device}/loop/backing_file`);
    if (backing?.includes(home)) leaks.push(`loop device /dev/${device} on ${backing.trim()}`);
  }
  const prefix = resourceTagFor(home).prefix;
  for (const hierarchy of readdirSync("/sys/fs/cgroup")) {
    const dir = `/sys/fs/cgroup/${hierarchy}`;
    const names = readIfDir(dir).filter((name) => name.startsWith(prefix));
    leaks.push(...names.map((name) => `cgroup ${dir}/${name}`));
  }
  leaks.push(...readIfDir("/run/netns").filter((n) => n.startsWith(prefix)).map((n) => `netns ${n}`));
  leaks.push(...hostNftTables().filter((t) => t.includes(prefix)).map((t) => `nftables ${t}`));
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    const cmdline = readIfExists(`/proc/${pid}/cmdline`)?.replaceAll("\0", " ");
    if (cmdline?.includes(home)) leaks.push(`process ${pid}: ${cmdline.slice(0, 120)}`);
  }
  return leaks;
}

// "table inet NAME" lines of the host's own ruleset (a workspace's tables live in its netns).
function hostNftTables(): string[] {
  const listed = spawnSync("nft", ["list", "tables"], { encoding: "utf8" });
  return listed.status === 0 ? listed.stdout.split("\n").filter(Boolean) : [];
}

function readIfDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
