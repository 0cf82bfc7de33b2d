// MCP tool definitions generated from the operations registry: the tool name is the
// operation's name, the description its description, the input schema its zod schema as JSON
// Schema (draft 7, what MCP clients expect). Pure: no I/O, so `agentiso serve` lists tools
// without touching the daemon.
import { z } from "zod";
import type { Operation } from "../operations/operation.js";

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: { type: "object"; [key: string]: unknown };
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean };
}

// Tools that only look: clients may call them without asking the user.
const READ_ONLY = new Set(["workspace_list", "workspace_info", "workspace_logs", "file_read", "file_list", "git_status", "git_diff"]);
// Tools that throw work away.
const DESTRUCTIVE = new Set(["workspace_destroy", "workspace_stop", "snapshot"]);

const cache = new WeakMap<readonly Operation[], ToolDefinition[]>();

// The tool list for an operations list (computed once per list).
export function toolDefinitions(operations: readonly Operation[]): ToolDefinition[] {
  let tools = cache.get(operations);
  if (!tools) {
    tools = operations.map(toolDefinition);
    cache.set(operations, tools);
  }
  return tools;
}

// One operation as an MCP tool.
export function toolDefinition(operation: Operation): ToolDefinition {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(operation.input, { io: "input", unrepresentable: "any", target: "draft-7" }) as Record<string, unknown>;
  return {
    name: operation.name,
    description: operation.description,
    inputSchema: { ...schema, type: "object" },
    annotations: {
      readOnlyHint: READ_ONLY.has(operation.name),
      destructiveHint: DESTRUCTIVE.has(operation.name),
      openWorldHint: operation.name === "git_clone" || operation.name === "workspace_prepare",
    },
  };
}
