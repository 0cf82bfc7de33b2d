// docs/mcp.md stays true to the contracts: its tool reference lists every tool, each with
// exactly its parameters and which of them are required.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { CONTRACTS } from "../../src/contract/registry.js";
import { operationFlags } from "../../src/cli/operation-flags.js";

const doc = readFileSync(resolve(import.meta.dirname, "../../docs/mcp.md"), "utf8");
const reference = doc.slice(doc.indexOf("### Tool reference"), doc.indexOf("\n### ", doc.indexOf("### Tool reference") + 1));

test("docs/mcp.md's tool reference lists every tool with exactly its parameters, required ones in bold", () => {
  const rows = new Map(
    [...reference.matchAll(/^\| `([a-z_]+)` \| (.*) \|$/gm)].map((m) => [m[1]!, m[2] === "—" ? [] : m[2]!.split(", ")]),
  );
  for (const contract of CONTRACTS) {
    const expected = operationFlags(contract).map((f) => (f.required ? `**${f.field}**` : f.field));
    assert.deepEqual(rows.get(contract.name), expected, `the row of ${contract.name} in docs/mcp.md ("| \`${contract.name}\` | ${expected.join(", ") || "—"} |")`);
  }
  assert.deepEqual([...rows.keys()].filter((name) => !CONTRACTS.some((c) => c.name === name)), [], "rows of tools that do not exist");
});
