// Keys stay out of the environments agentiso starts: the auto-started daemon gets only what it
// needs, and host tools run through runCommand get less still.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DAEMON_CONFIG_ENV_VARS, daemonEnvironment } from "../../src/cli/daemon-env.js";
import { hostToolEnv } from "../../src/core/host-env.js";
import { runCommand } from "../../src/core/run-command.js";

const KEYS = { ANTHROPIC_API_KEY: "sk-ant-secret", OPENAI_API_KEY: "sk-openai-secret", AGENTISO_API_KEY: "sk-agentiso-secret", AGENTISO_SECRET_KEY: "sk-plan-secret", GITHUB_TOKEN: "ghp-secret" };

describe("environments agentiso starts", () => {
  test("the daemon's environment holds the config and the tools' variables, and no key", () => {
    const cli = { ...KEYS, PATH: "/opt/bin:/usr/bin", HOME: "/root", LANG: "C.UTF-8", AGENTISO_RUNTIME: "vm", AGENTISO_MCP_TOKEN: "operator-token-0123456789", NODE_OPTIONS: "--require /tmp/evil.js", https_proxy: "http://proxy:3128" };
    assert.deepEqual(daemonEnvironment(cli, "/var/lib/agentiso-x"), {
      AGENTISO_HOME: "/var/lib/agentiso-x",
      PATH: "/opt/bin:/usr/bin",
      HOME: "/root",
      LANG: "C.UTF-8",
      https_proxy: "http://proxy:3128",
      AGENTISO_RUNTIME: "vm",
      AGENTISO_MCP_TOKEN: "operator-token-0123456789",
    });
  });

  test("every AGENTISO_* variable the configuration reads reaches the daemon", () => {
    const source = readFileSync(resolve(import.meta.dirname, "../../src/config/config.ts"), "utf8");
    const read = new Set([...source.matchAll(/env\.(AGENTISO_[A-Z0-9_]+)/g)].map((m) => m[1]!));
    read.delete("AGENTISO_HOME"); // given as the daemon's state dir
    assert.deepEqual([...read].sort(), [...DAEMON_CONFIG_ENV_VARS].sort());
  });

  test("host tools run with PATH, locale and temp dir only, never the daemon's keys", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, KEYS, { AGENTISO_MCP_TOKEN: "operator-token-0123456789" });
    try {
      const { stdout } = await runCommand(["env"]);
      const names = stdout.split("\n").filter(Boolean).map((line) => line.slice(0, line.indexOf("=")));
      assert.deepEqual(names.filter((name) => !["PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "PWD", "SHLVL", "_"].includes(name)), []);
      assert.equal(hostToolEnv({}).PATH, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    }
  });
});
