// The MCP tool server over the SDK's in-memory transport with a recording caller: the tool
// list comes from the registry, and every kind of bad call is answered with isError, a code
// and a message that says what to fix, while the server keeps answering.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { AgentisoError, ERROR_CODES } from "../../src/core/errors.js";
import { createToolServer } from "../../src/mcp/tool-server.js";
import { toolDefinitions } from "../../src/mcp/tool-definitions.js";
import { MCP_ERRORS } from "../../src/mcp/tool-results.js";
import type { ToolCaller } from "../../src/mcp/tool-caller.js";
import { OPERATIONS } from "../../src/operations/registry.js";

const REQUIRED_TOOLS = [
  "workspace_create", "workspace_destroy", "workspace_start", "workspace_stop", "workspace_list", "workspace_info", "workspace_logs",
  "exec", "exec_background", "exec_parallel", "set_env", "file_read", "file_write", "file_edit", "file_list", "file_transfer",
  "snapshot", "workspace_fork", "workspace_batch_fork", "workspace_prepare", "git_clone", "git_status", "git_diff", "git_commit", "workspace_adopt",
];

async function connected(call: ToolCaller) {
  const server = createToolServer({ contracts: OPERATIONS, call, version: "0.0.0-test" });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "unit", version: "1" });
  await client.connect(clientSide);
  return { client, [Symbol.asyncDispose]: async () => (await client.close(), await server.close()) };
}

type CallResult = { isError?: boolean; content: Array<{ type: string; text: string }>; structuredContent?: { error?: { code: string } } };

describe("MCP tool server", () => {
  test("lists every tool users and the seed rely on, each with a description and an object schema that forbids unknown keys", async () => {
    await using mcp = await connected(async () => null);
    const { tools } = await mcp.client.listTools();
    const names = tools.map((t) => t.name);
    for (const required of REQUIRED_TOOLS) assert.ok(names.includes(required), `missing tool ${required}`);
    assert.equal(names.length, OPERATIONS.length);
    for (const tool of tools) {
      assert.ok((tool.description ?? "").length > 20, `${tool.name} has a useful description`);
      assert.equal(tool.inputSchema.type, "object");
      assert.equal((tool.inputSchema as { additionalProperties?: unknown }).additionalProperties, false, `${tool.name} forbids unknown keys`);
    }
  });

  test("every schema property carries a description an LLM can act on", () => {
    for (const tool of toolDefinitions(OPERATIONS)) {
      const properties = (tool.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
      for (const [key, property] of Object.entries(properties)) {
        if (tool.name === "exec_parallel" && key === "runs") continue; // described at the item level
        assert.ok(property.description, `${tool.name}.${key} has a description`);
      }
    }
  });

  test("wrong types, unknown keys, missing fields and unknown tools come back as isError with the fix, and the server stays up", async () => {
    const calls: string[] = [];
    await using mcp = await connected(async (name) => (calls.push(name), { ok: true }));
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ["exec", { workspace: 42, command: "ls" }, /workspace: .*expected string, received number/],
      ["file_read", { workspace: "w", path: "/etc/hosts", color: "red" }, /Unrecognized key: "color"/],
      ["snapshot", { workspace: "w" }, /action: /],
      ["workspace_create", { memory: "lots" }, /memory: /],
      ["file_write", { workspace: "w", path: "/x", content: "a".repeat(12 * 1024 * 1024) }, /content is too large.*file_transfer/],
      ["no_such_tool", {}, /unknown tool "no_such_tool": tools\/list/],
    ];
    for (const [name, args, message] of cases) {
      const result = (await mcp.client.callTool({ name, arguments: args })) as CallResult;
      assert.equal(result.isError, true, name);
      assert.match(result.content[0]!.text, /^INVALID_INPUT: /);
      assert.match(result.content[0]!.text, message);
      assert.equal(result.structuredContent?.error?.code, "INVALID_INPUT");
    }
    assert.deepEqual(calls, [], "nothing invalid reached the caller");
    const ok = (await mcp.client.callTool({ name: "workspace_list", arguments: {} })) as CallResult;
    assert.equal(ok.isError, undefined);
    assert.deepEqual(JSON.parse(ok.content[0]!.text), { ok: true });
  });

  test("an error from the caller keeps its code and message, with a hint on what to do", async () => {
    await using mcp = await connected(async () => {
      throw new AgentisoError("NOT_FOUND", 'no workspace "ghost" in this session');
    });
    const result = (await mcp.client.callTool({ name: "workspace_info", arguments: { workspace: "ghost" } })) as CallResult;
    assert.equal(result.isError, true);
    assert.match(result.content[0]!.text, /^NOT_FOUND: no workspace "ghost" in this session\n\(check the name/);
  });

  test("a crash in the caller becomes INTERNAL, not a dropped connection", async () => {
    await using mcp = await connected(async () => {
      throw new TypeError("boom");
    });
    const result = (await mcp.client.callTool({ name: "workspace_list", arguments: {} })) as CallResult;
    assert.match(result.content[0]!.text, /^INTERNAL: boom/);
    assert.equal(((await mcp.client.listTools()).tools.length), OPERATIONS.length);
  });

  test("the error table covers every error code", () => {
    assert.deepEqual(Object.keys(MCP_ERRORS).sort(), [...ERROR_CODES].sort());
  });
});
