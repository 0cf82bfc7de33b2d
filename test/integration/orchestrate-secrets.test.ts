// Where the LLM key goes. proxy mode: nowhere inside the worker — not its files, not any
// process environment — and not in the state database or logs. env mode: in the agent's memory
// and opencode's environment while it runs, and on no disk. Either way the daemon the CLI
// auto-starts (and what it starts: runc, slirp4netns...) never has it, nor any other key the
// CLI's environment held: the key travels over the control socket only.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { CLI, CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { orchestrateFixture, taskToml } from "../support/orchestrate-fixture.js";
import { waitForOpencode } from "../support/orchestrate-watch.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));
// In env mode the processes of opencode's run hold the key: its output wrapper (sh and tail,
// output-through-file.ts), opencode, and what opencode spawns. Never the agent, runc or the daemon.
const OPENCODE_RUN_PROCESSES = ["sh", "tail", "opencode", "bash"];

// Files under `dirs` written since `since` that contain `needle` (older files cannot hold it).
// The pool's loop file is left out: its content is the mounted pool, searched file by file, and
// grep over a 20 GB sparse file without newlines would buffer gigabytes.
async function filesContaining(needle: string, since: Date, dirs: string[]): Promise<string[]> {
  const script = `find "$@" -type f -not -name '*.btrfs.img' -newermt "${since.toISOString()}" -print0 2>/dev/null | xargs -0 -r grep -l --binary-files=text -F -e "$NEEDLE" 2>/dev/null || true`;
  const { stdout } = await runCommand(["sh", "-c", script, "sh", ...dirs], { env: { ...process.env, NEEDLE: needle }, timeoutMs: 300_000 });
  return stdout.split("\n").filter(Boolean);
}

async function environmentsInside(cli: CliHarness, worker: string): Promise<Array<{ pid: string; comm: string; env: string }>> {
  const script = 'for d in /proc/[0-9]*; do printf "%s\\t%s\\t" "${d#/proc/}" "$(cat $d/comm 2>/dev/null)"; tr "\\0" " " < $d/environ 2>/dev/null; echo; done';
  const out = await cli.ok(["ws", "exec", worker, "--", "sh", "-c", script]);
  return out.split("\n").filter(Boolean).map((line) => {
    const [pid, comm, ...env] = line.split("\t");
    return { pid: pid!, comm: comm!, env: env.join("\t") };
  });
}

// Host processes whose environment (/proc/PID/environ) holds one of `secrets`.
function hostEnvironsHolding(secrets: string[]): Array<{ pid: number; comm: string }> {
  const holders: Array<{ pid: number; comm: string }> = [];
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1");
      if (secrets.some((secret) => environ.includes(secret))) holders.push({ pid: Number(entry), comm: readFileSync(`/proc/${entry}/comm`, "utf8").trim() });
    } catch {
      // the process ended meanwhile
    }
  }
  return holders;
}

async function runWithKey(keyMode: "proxy" | "env", check: (cli: CliHarness, worker: string, key: string) => Promise<void>) {
  const key = `sk-agentiso-secret-${randomBytes(12).toString("hex")}`;
  await using fixture = await orchestrateFixture({
    rules: [
      {
        match: { firstUserMessageContains: "TASK-secret" },
        steps: [
          { delayMs: 8000, toolCalls: [{ name: "edit", arguments: { filePath: "{{workdir}}/a.txt", oldString: "one", newString: "ONE" } }] },
          { text: "done" },
        ],
      },
    ],
  });
  const plan = fixture.plan(`
[golden]
image = "opencode"
repo = "${fixture.repo}"
network = "none"
[model]
provider = "openai-compatible"
base_url = "${fixture.stub.url}"
api_key_env = "AGENTISO_SECRET_KEY"
key_mode = "${keyMode}"
${taskToml("secret")}
`);
  // keys a user commonly has set where they run agentiso, besides the one the plan names
  const otherKeys = { ANTHROPIC_API_KEY: `sk-ant-${randomBytes(8).toString("hex")}`, OPENAI_API_KEY: `sk-oai-${randomBytes(8).toString("hex")}`, AGENTISO_API_KEY: `sk-ais-${randomBytes(8).toString("hex")}` };
  await using cli = new CliHarness({ AGENTISO_SECRET_KEY: key, ...otherKeys });
  const started = new Date(Date.now() - 1000);
  const results = join(fixture.dir, "results");
  const child = spawn(process.execPath, [CLI, "orchestrate", plan, "--results", results, "--keep-workers"], { env: cli.env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<string>((resolve) => child.on("close", (code) => resolve(`exit ${code}: ${stderr}`)));
  const worker = await waitForOpencode(cli, "secret", done);
  await check(cli, worker.name, key);
  // while the task runs: only the CLI holds the keys (and, in env mode, opencode's run in the worker: its output wrapper sh and tail, opencode, what it spawns)
  const inWorker = keyMode === "env" ? OPENCODE_RUN_PROCESSES : [];
  const holders = hostEnvironsHolding([key, ...Object.values(otherKeys)]).filter((p) => p.pid !== child.pid);
  assert.deepEqual(holders.filter((p) => !inWorker.includes(p.comm)), [], "no host process but the CLI (the daemon, runc, the agent...) has a key in its environment");
  assert.deepEqual(hostEnvironsHolding(Object.values(otherKeys)).map((p) => p.pid), [child.pid], "keys the plan does not name stay in the CLI");
  assert.match(await done, /^exit 0/);
  const daemonEnviron = readFileSync(`/proc/${cli.daemonPid()}/environ`, "latin1").split("\0");
  assert.ok(daemonEnviron.includes(`AGENTISO_HOME=${cli.home}`), "this is the auto-started daemon");
  assert.deepEqual(daemonEnviron.filter((entry) => [key, ...Object.values(otherKeys)].some((secret) => entry.includes(secret))), [], "the daemon's environment holds no key");
  assert.deepEqual(hostEnvironsHolding([key, ...Object.values(otherKeys)]), [], "after the run no process's environment holds a key");
  assert.ok(fixture.stub.requests.some((r) => r.headers.authorization === `Bearer ${key}`), "the provider received the real key");
  assert.deepEqual(await filesContaining(key, started, [cli.home, results]), [], "no file in the state dir (pool, database, logs) or the results holds the key");
}

describe("the LLM key", { skip, timeout: 900_000 }, () => {
  test("in proxy mode it is in no process environment inside the worker and on no disk", async () => {
    await ensureImage("opencode");
    await runWithKey("proxy", async (cli, worker, key) => {
      const envs = await environmentsInside(cli, worker);
      assert.ok(envs.some((p) => p.comm === "opencode"), "opencode runs");
      assert.deepEqual(envs.filter((p) => p.env.includes(key)).map((p) => p.comm), []);
    });
  });

  test("in env mode it is only in opencode's environment (agent memory) and on no disk", async () => {
    await ensureImage("opencode");
    await runWithKey("env", async (cli, worker, key) => {
      const envs = await environmentsInside(cli, worker);
      const holders = envs.filter((p) => p.env.includes(key)).map((p) => p.comm);
      assert.ok(holders.includes("opencode"), "opencode got the key from set_env");
      assert.ok(holders.every((comm) => OPENCODE_RUN_PROCESSES.includes(comm)), `only opencode's run holds it: ${holders.join(", ")}`);
    });
  });
});
