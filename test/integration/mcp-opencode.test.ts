// The real opencode (1.18.33) as the MCP client: agentiso is configured in its opencode.json
// as a local MCP server (`agentiso serve`), and a stub model served here on loopback asks for
// workspace_create, exec and workspace_destroy. The exec output must come back to the model,
// and the workspace must be gone afterwards.
import { HOST_OPENCODE_BIN } from "../support/base-image.js";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStubServer } from "../../src/llm/stub-server.js";
import type { StubScriptInput } from "../../src/llm/stub-script.js";
import { buildOpencodeConfig } from "../../src/orchestrator/opencode/opencode-config.js";
import { runOpencodeOnHost } from "../../src/orchestrator/opencode/run-on-host.js";
import { CLI, CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasPath, requires } from "../support/prereq.js";
import { realDaemonSkip } from "./mcp-tool-suite.js";

const OPENCODE = HOST_OPENCODE_BIN;
const skip = realDaemonSkip || requires(hasPath(OPENCODE, "opencode binary (npm ci installs opencode-linux-x64)"));
const PROMPT = "agentiso-mcp-check: make a workspace, run a command in it, then remove it";

function script(workspace: string): StubScriptInput {
  return {
    rules: [
      {
        name: "mcp-roundtrip",
        match: { firstUserMessageContains: "agentiso-mcp-check" },
        steps: [
          { toolCalls: [{ name: "agentiso_workspace_create", arguments: { name: workspace, image: "base", memory: "256M" } }] },
          { toolCalls: [{ name: "agentiso_exec", arguments: { workspace, command: "echo mcp-exec-$((6 * 7)) from $(hostname)" } }] },
          { toolCalls: [{ name: "agentiso_workspace_destroy", arguments: { workspace } }] },
          { text: "Created, ran and destroyed the workspace." },
        ],
      },
    ],
    default: { text: "MCP check" },
  };
}

// Tool results opencode sent back to the model, in order.
function toolMessages(bodies: unknown[]): string[] {
  const last = bodies.at(-1) as { messages?: Array<{ role: string; content: unknown }> } | undefined;
  return (last?.messages ?? []).filter((m) => m.role === "tool").map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)));
}

describe("opencode as the MCP client of agentiso serve", { skip, timeout: 600_000 }, () => {
  let cli: CliHarness;
  let cwd: string;

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness();
    await cli.ok(["init", "--pool-size", "8G"]);
    await cli.ok(["daemon"]); // so the first tool call does not wait for the engine to open
    cwd = await mkdtemp(join(tmpdir(), "agentiso-oc-mcp-"));
  });
  after(async () => {
    if (cwd) await rm(cwd, { recursive: true, force: true });
    await cli?.[Symbol.asyncDispose]();
  });

  test("the model's workspace_create, exec and workspace_destroy run through MCP; the exec output reaches the model; nothing is left", async () => {
    const workspace = `oc-${randomBytes(3).toString("hex")}`;
    await using stub = await startStubServer({ script: script(workspace) });
    const config = buildOpencodeConfig({
      provider: { kind: "openai-compatible", baseUrl: stub.url, model: "stub-model" },
      key: { mode: "keyless" },
      mcp: { agentiso: { command: [process.execPath, CLI, "serve", "--session", "opencode-test"], environment: { AGENTISO_HOME: cli.home, AGENTISO_IMAGE_CACHE: cli.env.AGENTISO_IMAGE_CACHE! } } },
    });
    const { result, stderr } = await runOpencodeOnHost({ cwd, prompt: PROMPT, config, timeoutMs: 300_000, binary: OPENCODE });
    const agentTurns = stub.requests.filter((r) => r.tools.length > 0);
    assert.ok(agentTurns[0]?.tools.includes("agentiso_workspace_create"), `opencode offers agentiso's tools prefixed with the server name; offered: ${agentTurns[0]?.tools.join(", ")}`);
    assert.ok(agentTurns[0]!.tools.includes("agentiso_git_diff"));
    assert.equal(result.status, "succeeded", `${result.reason}\n${stderr.slice(-3000)}`);
    assert.deepEqual(
      result.toolCalls.map((c) => [c.tool, c.status]),
      [["agentiso_workspace_create", "completed"], ["agentiso_exec", "completed"], ["agentiso_workspace_destroy", "completed"]],
    );
    const outputs = toolMessages(agentTurns.map((r) => r.body));
    assert.equal(outputs.length, 3);
    assert.match(outputs[0]!, new RegExp(`"name": "${workspace}"`));
    assert.match(outputs[1]!, /mcp-exec-42 from /, "the exec output came back to the model");
    assert.match(outputs[2]!, new RegExp(`"destroyed": "${workspace}"`));
    assert.deepEqual(await cli.json(["ws", "ls"]), [], "the workspace is gone");
  });
});
