// Where the LLM key goes. proxy mode: nowhere inside the worker — not its files, not any
// process environment — and not in the state database or logs. env mode: in the agent's memory
// and opencode's environment while it runs, and on no disk.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { CLI, CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { orchestrateFixture, taskToml } from "../support/orchestrate-fixture.js";
import { waitForOpencode } from "../support/orchestrate-watch.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"));

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
  await using cli = new CliHarness({ AGENTISO_SECRET_KEY: key });
  const started = new Date(Date.now() - 1000);
  const results = join(fixture.dir, "results");
  const child = spawn(process.execPath, [CLI, "orchestrate", plan, "--results", results, "--keep-workers"], { env: cli.env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<string>((resolve) => child.on("close", (code) => resolve(`exit ${code}: ${stderr}`)));
  const worker = await waitForOpencode(cli, "secret", done);
  await check(cli, worker.name, key);
  assert.match(await done, /^exit 0/);
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
      assert.ok(holders.every((comm) => comm === "opencode" || comm === "bash" || comm === "sh"), `only opencode (and what it spawns) holds it: ${holders.join(", ")}`);
    });
  });
});
