// docs/mcp.md is the reference an MCP user reads: its tool table must name every tool of the
// registry with every parameter (required ones in bold), and no tool that does not exist.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { z } from "zod";
import { CONTRACTS } from "../../src/contract/registry.js";

const DOC = readFileSync(resolve(import.meta.dirname, "../../docs/mcp.md"), "utf8");

// The rows of the tool table (from its header to the first line that is no row): name → the parameter cell.
function toolRows(): Map<string, string> {
  const start = DOC.indexOf("| tool | parameters | what it does |");
  assert.ok(start >= 0, "docs/mcp.md has the tool table");
  const rows = new Map<string, string>();
  for (const line of DOC.slice(start).split("\n").slice(2)) {
    const match = /^\| `([a-z_]+)` \| ([^|]*) \| .* \|$/.exec(line);
    if (!match) break;
    rows.set(match[1]!, match[2]!.trim());
  }
  return rows;
}

function parametersOf(input: z.ZodType): Array<{ key: string; required: boolean }> {
  const shape = (input as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
  return Object.entries(shape).map(([key, schema]) => ({ key, required: !schema.safeParse(undefined).success }));
}

test("docs/mcp.md lists every tool of the registry and no other", () => {
  const rows = toolRows();
  assert.deepEqual(CONTRACTS.map((c) => c.name).filter((name) => !rows.has(name)), [], "tools missing from the table in docs/mcp.md");
  assert.deepEqual([...rows.keys()].filter((name) => !CONTRACTS.some((c) => c.name === name)), [], "rows for tools that do not exist");
});

test("each tool's row names every parameter, the required ones in bold", () => {
  const rows = toolRows();
  for (const contract of CONTRACTS) {
    const cell = rows.get(contract.name) ?? "";
    const listed = cell === "—" ? [] : cell.split(",").map((p) => p.trim());
    const expected = parametersOf(contract.input).map((p) => (p.required ? `**${p.key}**` : p.key));
    assert.deepEqual([...listed].sort(), [...expected].sort(), `parameters of ${contract.name}`);
  }
});
