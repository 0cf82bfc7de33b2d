// The configuration: defaults, environment overrides and clear errors, on the keys the
// composition root branches on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { loadConfig } from "../../src/config/config.js";

function withHome<T>(configToml: string | undefined, fn: (home: string) => T): T {
  const home = mkdtempSync(join(tmpdir(), "ais-config-"));
  try {
    if (configToml !== undefined) writeFileSync(join(home, "config.toml"), configToml);
    return fn(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test("the agent runs on the host's node by default; config.toml and AGENTISO_AGENT_NODE choose the image's", () => {
  withHome(undefined, (home) => assert.equal(loadConfig({ env: { AGENTISO_HOME: home } }).runtime.agentNode, "host"));
  withHome('[runtime]\nagentNode = "image"\n', (home) => {
    assert.equal(loadConfig({ env: { AGENTISO_HOME: home } }).runtime.agentNode, "image");
    assert.equal(loadConfig({ env: { AGENTISO_HOME: home, AGENTISO_AGENT_NODE: "host" } }).runtime.agentNode, "host");
  });
});

test("an unknown agent node is refused with the key and the choices", () => {
  withHome(undefined, (home) => assert.throws(() => loadConfig({ env: { AGENTISO_HOME: home, AGENTISO_AGENT_NODE: "guest" } }), /runtime\.agentNode.*"host".*"image"/));
});

test("the thrash guard acts after 5 s by default; 0 turns it off; a negative time is refused", () => {
  withHome(undefined, (home) => assert.equal(loadConfig({ env: { AGENTISO_HOME: home } }).runtime.thrashKillMs, 5000));
  withHome("[runtime]\nthrashKillMs = 0\n", (home) => assert.equal(loadConfig({ env: { AGENTISO_HOME: home } }).runtime.thrashKillMs, 0));
  withHome("[runtime]\nthrashKillMs = -1\n", (home) => assert.throws(() => loadConfig({ env: { AGENTISO_HOME: home } }), /runtime\.thrashKillMs/));
});

test("[[pool.entries]] become the engine's pools: sizes parsed, keys left out for the defaults, [vm] warmPool one more entry", async () => {
  const { warmPoolSettings } = await import("../../src/compose/warm-pool-settings.js");
  const toml = '[vm]\nwarmPool = 1\n[pool]\nidleTimeout = "30m"\nforksPerSnapshot = 2\n[[pool.entries]]\nimage = "opencode"\nsize = 4\nmemory = "2G"\ncpus = 2\nnetwork = "egress"\nidleTimeout = "none"\n[[pool.entries]]\nsize = 2\n';
  withHome(toml, (home) => {
    assert.deepEqual(warmPoolSettings(loadConfig({ env: { AGENTISO_HOME: home } })), {
      entries: [{ size: 4, image: "opencode", memoryMiB: 2048, cpus: 2, network: "egress", idleTimeoutMs: null }, { size: 2 }, { size: 1, runtime: "vm" }],
      idleTimeoutMs: 1_800_000,
      fillConcurrency: 1,
      forksPerSnapshot: 2,
    });
  });
  withHome("[[pool.entries]]\nsize = 2\nmemory = 512\nbogus = 1\n", (home) => assert.throws(() => loadConfig({ env: { AGENTISO_HOME: home } }), /pool\.entries\.0/));
});
