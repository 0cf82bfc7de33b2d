// MCP tool definitions generated from the operation contracts: the tool name is the
// operation's name, title and description its own, the input and output schemas its zod
// schemas as JSON Schema (draft 7, what MCP clients expect), the annotations its hints.
// Pure: no I/O, so `agentiso serve` lists tools without touching the daemon.
import { z } from "zod";
import type { OperationContract } from "../contract/contract.js";

type ObjectSchema = { type: "object"; [key: string]: unknown };

export interface ToolDefinition {
  name: string;
  title: string;
  description: string;
  inputSchema: ObjectSchema;
  outputSchema: ObjectSchema;
  annotations: { title: string; readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
}

/** The key a result that is not a JSON object (a list, a union) travels under in structuredContent. */
export const WRAPPED_RESULT_KEY = "result";

const cache = new WeakMap<readonly OperationContract[], ToolDefinition[]>();

// The tool list for a contracts list (computed once per list).
export function toolDefinitions(contracts: readonly OperationContract[]): ToolDefinition[] {
  let tools = cache.get(contracts);
  if (!tools) {
    tools = contracts.map(toolDefinition);
    cache.set(contracts, tools);
  }
  return tools;
}

// One operation as an MCP tool.
export function toolDefinition(contract: OperationContract): ToolDefinition {
  const { hints } = contract;
  return {
    name: contract.name,
    title: contract.title,
    description: contract.description,
    inputSchema: { ...jsonSchema(contract.input, "input"), type: "object" },
    outputSchema: outputSchemaOf(contract),
    annotations: {
      title: contract.title,
      readOnlyHint: hints.readOnly,
      destructiveHint: hints.destructive,
      idempotentHint: hints.idempotent,
      openWorldHint: hints.openWorld,
    },
  };
}

// Each contract's output as JSON Schema, converted once: every successful tool call asks
// whether its result is wrapped.
const outputSchemas = new WeakMap<OperationContract, Record<string, unknown>>();

function outputJsonSchema(contract: OperationContract): Record<string, unknown> {
  let schema = outputSchemas.get(contract);
  if (!schema) {
    schema = jsonSchema(contract.output, "output");
    outputSchemas.set(contract, schema);
  }
  return schema;
}

// MCP wants structured output to be a JSON object: a list or a union is wrapped as {result: ...}.
export function wrapsResult(contract: OperationContract): boolean {
  return outputJsonSchema(contract).type !== "object";
}

function outputSchemaOf(contract: OperationContract): ObjectSchema {
  const schema = outputJsonSchema(contract);
  if (!wrapsResult(contract)) return { ...schema, type: "object" };
  return { type: "object", properties: { [WRAPPED_RESULT_KEY]: schema }, required: [WRAPPED_RESULT_KEY], additionalProperties: false };
}

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-7" }) as Record<string, unknown>;
  return rest;
}
