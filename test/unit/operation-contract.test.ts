// The registry holds contracts and implementations together: one operation per contract, in
// the contracts' order, each carrying its contract's own schemas and hints.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CONTRACTS, TERMINAL_CONTRACTS } from "../../src/contract/registry.js";
import { OPERATIONS, TERMINAL_OPERATIONS } from "../../src/operations/registry.js";
import { toolDefinitions } from "../../src/mcp/tool-definitions.js";

test("every contract has exactly one operation, in the same order, with the contract's own schemas", () => {
  assert.deepEqual(OPERATIONS.map((op) => op.name), CONTRACTS.map((c) => c.name));
  assert.equal(new Set(OPERATIONS.map((op) => op.name)).size, OPERATIONS.length);
  for (const [i, contract] of CONTRACTS.entries()) {
    const operation = OPERATIONS[i]!;
    assert.equal(operation.input, contract.input, `${contract.name}: input schema`);
    assert.equal(operation.output, contract.output, `${contract.name}: output schema`);
    assert.deepEqual(operation.hints, contract.hints);
  }
});

test("every contract has a title, a description an LLM can act on, and hints that do not contradict each other", () => {
  for (const contract of CONTRACTS) {
    assert.ok(contract.title.length > 3 && contract.title.length <= 48, `${contract.name}: title`);
    assert.ok(contract.description.length > 20, `${contract.name}: description`);
    assert.ok(!(contract.hints.readOnly && contract.hints.destructive), `${contract.name}: read-only and destructive`);
  }
});

test("every MCP outputSchema is a JSON object schema; lists and unions are wrapped under result", () => {
  for (const tool of toolDefinitions(CONTRACTS)) {
    assert.equal(tool.outputSchema.type, "object", tool.name);
    const wrapped = (tool.outputSchema.properties as Record<string, unknown> | undefined)?.result !== undefined;
    if (["workspace_list", "workspace_fork", "exec_parallel", "exec_background", "snapshot"].includes(tool.name)) assert.ok(wrapped, `${tool.name} is wrapped`);
    if (["workspace_create", "exec", "file_read", "orchestrate"].includes(tool.name)) assert.ok(!wrapped, `${tool.name} is not wrapped`);
  }
});

test("terminal contracts have their operations too, and are no MCP tool (MCP has no terminal)", () => {
  assert.deepEqual(TERMINAL_OPERATIONS.map((op) => op.name), TERMINAL_CONTRACTS.map((c) => c.name));
  for (const [i, contract] of TERMINAL_CONTRACTS.entries()) assert.equal(TERMINAL_OPERATIONS[i]!.input, contract.input);
  const tools = new Set(toolDefinitions(CONTRACTS).map((tool) => tool.name));
  for (const contract of TERMINAL_CONTRACTS) {
    assert.ok(!tools.has(contract.name), `${contract.name} is not a tool`);
    assert.ok(!CONTRACTS.includes(contract), `${contract.name} is not among the contracts front doors derive from`);
  }
});
