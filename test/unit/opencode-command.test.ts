// What a worker's opencode is started with: its own dirs, inline config, and the key only when asked.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildOpencodeCommand, continuedArgv } from "../../src/orchestrator/opencode/opencode-command.js";
import { buildOpencodeConfig, KEYLESS_PLACEHOLDER_KEY } from "../../src/orchestrator/opencode/opencode-config.js";

describe("opencode config and command", () => {
  test("an openai-compatible worker config names the bundled provider package, the base URL and the model", () => {
    const config = buildOpencodeConfig({ provider: { kind: "openai-compatible", baseUrl: "http://127.0.0.1:9/v1", model: "stub-model" }, key: { mode: "keyless" } });
    assert.deepEqual(config.provider, {
      agentiso: { npm: "@ai-sdk/openai-compatible", name: "agentiso", options: { apiKey: KEYLESS_PLACEHOLDER_KEY, baseURL: "http://127.0.0.1:9/v1" }, models: { "stub-model": { name: "stub-model" } } },
    });
    assert.equal(config.model, "agentiso/stub-model");
    assert.equal(config.small_model, "agentiso/stub-model");
    assert.equal(config.autoupdate, false);
    assert.equal(config.share, "disabled");
  });

  test("no permission is left at ask, because a headless run rejects every ask", () => {
    const config = buildOpencodeConfig({ provider: { kind: "anthropic", model: "claude" }, key: { mode: "env", envVar: "ANTHROPIC_API_KEY" }, permissions: { webfetch: "allow" } });
    const actions = JSON.stringify(config.permission);
    assert.doesNotMatch(actions, /"ask"/);
    const permission = config.permission as Record<string, unknown>;
    assert.equal(permission.edit, "allow");
    assert.equal(permission.bash, "allow");
    assert.equal(permission.webfetch, "allow");
    assert.deepEqual((config.provider as Record<string, { options: unknown }>).anthropic!.options, { apiKey: "{env:ANTHROPIC_API_KEY}" });
  });

  test("MCP servers become local entries with their command", () => {
    const config = buildOpencodeConfig({ provider: { kind: "openai", model: "gpt" }, key: { mode: "keyless" }, mcp: { agentiso: { command: ["agentiso", "serve"] } } });
    assert.deepEqual(config.mcp, { agentiso: { type: "local", command: ["agentiso", "serve"], enabled: true } });
  });

  test("each run gets its own HOME and XDG dirs under its run dir, and the plugin install is pre-empted", () => {
    const config = buildOpencodeConfig({ provider: { kind: "openai", model: "gpt" }, key: { mode: "keyless" } });
    const command = buildOpencodeCommand({ prompt: "fix it", config, runDir: "/run/r1", baseEnv: { PATH: "/usr/bin" } });
    assert.deepEqual(command.argv, ["opencode", "run", "--format", "json", "--", "fix it"]);
    assert.equal(command.env.HOME, "/run/r1/home");
    assert.equal(command.env.XDG_CONFIG_HOME, "/run/r1/config");
    assert.equal(command.env.XDG_DATA_HOME, "/run/r1/data");
    assert.equal(command.env.OPENCODE_DISABLE_MODELS_FETCH, "1");
    assert.equal(command.env.PATH, "/usr/bin");
    assert.deepEqual(JSON.parse(command.env.OPENCODE_CONFIG_CONTENT!), config);
    assert.ok(command.dirs.includes("/run/r1/config/opencode/node_modules"));
    const lock = JSON.parse(command.files.find((f) => f.path === "/run/r1/config/opencode/package-lock.json")!.content);
    assert.deepEqual(Object.keys(lock.packages[""].dependencies), ["@opencode-ai/plugin"]);
  });

  test("the key is in the environment only in env key mode", () => {
    const config = buildOpencodeConfig({ provider: { kind: "openai", model: "gpt" }, key: { mode: "env", envVar: "OPENAI_API_KEY" } });
    const withKey = buildOpencodeCommand({ prompt: "p", config, runDir: "/r", keyEnv: { name: "OPENAI_API_KEY", value: "sk-1" } });
    assert.equal(withKey.env.OPENAI_API_KEY, "sk-1");
    const keyless = buildOpencodeCommand({ prompt: "p", config, runDir: "/r" });
    assert.doesNotMatch(JSON.stringify(keyless), /sk-1/);
  });
});

test("a continued run resumes the session by id (else the run dir's last one) with the new prompt after --", () => {
  const command = buildOpencodeCommand({ prompt: "first", config: {}, runDir: "/tmp/r", binary: "/.agentiso/bin/opencode" });
  assert.deepEqual(continuedArgv(command, "ses_abc", "-fix it"), ["/.agentiso/bin/opencode", "run", "--format", "json", "--session", "ses_abc", "--", "-fix it"]);
  assert.deepEqual(continuedArgv(command, undefined, "again").slice(4), ["--continue", "--", "again"]);
});
