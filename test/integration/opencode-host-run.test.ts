// The real opencode 1.18.33 on the host, against the stub model directly and through the
// keyless proxy. Each run takes seconds, so this file keeps to four runs.
import { HOST_OPENCODE_BIN } from "../support/base-image.js";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { LlmProxy } from "../../src/llm/proxy.js";
import { startStubServer, type StubServer } from "../../src/llm/stub-server.js";
import { buildOpencodeConfig, type OpencodeConfigInput } from "../../src/orchestrator/opencode/opencode-config.js";
import { runOpencodeOnHost, type HostRunOptions } from "../../src/orchestrator/opencode/run-on-host.js";
import { hasCommand, hasPath, requires } from "../support/prereq.js";
import { ALWAYS_400, WRITE_AND_EDIT, WRITE_AND_EDIT_PROMPT } from "../support/stub-scripts.js";

const OPENCODE = HOST_OPENCODE_BIN;
const skip = requires(hasPath(OPENCODE, "opencode binary (npm ci installs opencode-linux-x64)"), hasCommand("git"));
const TIMEOUT_MS = 120_000;

// A git repo with a.txt = "hello\n", removed with everything opencode left in it.
async function withRepo<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "agentiso-oc-repo-"));
  try {
    await writeFile(join(dir, "a.txt"), "hello\n");
    const git = (...args: string[]) => runCommand(["git", "-C", dir, "-c", "user.email=t@agentiso", "-c", "user.name=t", ...args]);
    await git("init", "-q");
    await git("add", ".");
    await git("commit", "-qm", "init");
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function configFor(baseUrl: string, extra: Partial<OpencodeConfigInput> = {}) {
  return buildOpencodeConfig({ provider: { kind: "openai-compatible", baseUrl, model: "stub-model" }, key: { mode: "keyless" }, ...extra });
}

async function run(cwd: string, options: Partial<HostRunOptions> & Pick<HostRunOptions, "config">) {
  return runOpencodeOnHost({ cwd, prompt: WRITE_AND_EDIT_PROMPT, timeoutMs: TIMEOUT_MS, binary: OPENCODE, ...options });
}

// Tokens the stub billed for agent turns (title generation is a separate, tool-less request).
function agentTurnTokens(stub: StubServer): { input: number; output: number } {
  const turns = stub.requests.filter((r) => r.tools.length > 0 && r.usage);
  return { input: turns.reduce((n, r) => n + r.usage!.promptTokens, 0), output: turns.reduce((n, r) => n + r.usage!.completionTokens, 0) };
}

describe("opencode on the host", { skip, timeout: 5 * TIMEOUT_MS }, () => {
  test("a scripted write and edit against the stub succeeds with both tool calls and the stub's tokens", async () => {
    await using stub = await startStubServer({ script: WRITE_AND_EDIT });
    await withRepo(async (repo) => {
      const { result, runDir } = await run(repo, { config: configFor(stub.url), keepRunDir: true });
      try {
        assert.equal(result.status, "succeeded", result.reason);
        assert.deepEqual(result.toolCalls.map((c) => [c.tool, c.status]), [["write", "completed"], ["edit", "completed"]]);
        assert.equal(result.finalText, "Edited a.txt and wrote NEW.md");
        assert.equal(result.steps, 3);
        const billed = agentTurnTokens(stub);
        assert.deepEqual({ input: result.tokens.input, output: result.tokens.output }, billed);
        assert.equal(billed.input, 300);
        assert.equal(await readFile(join(repo, "NEW.md"), "utf8"), "written by the model\n");
        assert.equal(await readFile(join(repo, "a.txt"), "utf8"), "hello edited\n");
        assert.deepEqual(stub.requests.filter((r) => r.tools.length > 0)[0]!.tools.filter((t) => ["bash", "edit", "write"].includes(t)).sort(), ["bash", "edit", "write"]);
        assert.equal(existsSync(join(runDir, "home", ".npm")), false, "opencode did not try to npm-install its plugin");
      } finally {
        await rm(runDir, { recursive: true, force: true });
      }
    });
  });

  test("through the keyless proxy the stub sees the real key, the worker never does, and the proxy counts the same tokens", async () => {
    const key = `sk-proxy-${process.pid}-${Date.now()}`;
    await using stub = await startStubServer({ script: WRITE_AND_EDIT });
    const proxy = new LlmProxy({ provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: key } });
    await using task = proxy.forTask("oc-proxy");
    const proxyUrl = await task.listen();
    await withRepo(async (repo) => {
      const config = configFor(proxyUrl);
      assert.doesNotMatch(JSON.stringify(config), new RegExp(key));
      const { result, stderr } = await run(repo, { config });
      assert.equal(result.status, "succeeded", result.reason);
      assert.equal(result.toolCalls.filter((c) => c.status === "completed").length, 2);
      assert.ok(stub.requests.length > 0 && stub.requests.every((r) => r.headers.authorization === `Bearer ${key}`));
      const billed = stub.usageTotals();
      assert.deepEqual({ input: task.usage().tokens.input, output: task.usage().tokens.output }, { input: billed.promptTokens, output: billed.completionTokens });
      assert.deepEqual({ input: result.tokens.input, output: result.tokens.output }, agentTurnTokens(stub));
      assert.doesNotMatch(stderr, new RegExp(key));
    });
  });

  test("a provider HTTP 400 makes the run fail with the provider's message, and an env-mode key reaches the provider", async () => {
    await using stub = await startStubServer({ script: ALWAYS_400 });
    await withRepo(async (repo) => {
      const config = configFor(stub.url, { key: { mode: "env", envVar: "AGENTISO_TEST_LLM_KEY" } });
      const { result } = await run(repo, { config, keyEnv: { name: "AGENTISO_TEST_LLM_KEY", value: "sk-env-mode" } });
      assert.equal(result.status, "failed");
      assert.match(result.reason, /HTTP 400.*stub: scripted failure/);
      assert.equal(result.exitCode, 1);
      assert.equal(stub.requests.find((r) => r.tools.length > 0)?.headers.authorization, "Bearer sk-env-mode");
    });
  });

  test("a model calling a tool the config denies ends in failure, not success, and nothing changes", async () => {
    await using stub = await startStubServer({ script: WRITE_AND_EDIT });
    await withRepo(async (repo) => {
      const { result } = await run(repo, { config: configFor(stub.url, { permissions: { edit: "deny" } }) });
      assert.equal(result.exitCode, 0);
      assert.equal(result.status, "failed");
      assert.match(result.reason, /unavailable tools \(write, edit\)/);
      assert.equal(existsSync(join(repo, "NEW.md")), false);
      assert.equal(await readFile(join(repo, "a.txt"), "utf8"), "hello\n");
    });
  });
});
