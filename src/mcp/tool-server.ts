// The MCP server of agentiso: tools/list from the operation contracts, tools/call validated
// with the operation's own zod schema (so a wrong type, an unknown key or a missing field comes
// back as isError with our message) and handed to a ToolCaller. Transport-agnostic: stdio for
// `agentiso serve`, Streamable HTTP in the daemon.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { AgentisoError, toAgentisoError } from "../core/errors.js";
import { parseInput, type OperationContract } from "../contract/contract.js";
import type { ToolCallOptions, ToolCaller } from "./tool-caller.js";
import { ProgressRelay } from "./progress-relay.js";
import { toolDefinitions } from "./tool-definitions.js";
import { errorResult, successResult, type ToolResult } from "./tool-results.js";

export interface ToolServerOptions {
  contracts: readonly OperationContract[];
  call: ToolCaller;
  version: string;
  /** Observes every tools/call (e.g. a log line); never throws. */
  onCall?: (name: string, outcome: { durationMs: number; error?: AgentisoError }) => void;
}

const INSTRUCTIONS = `agentiso gives you isolated Linux workspaces. Typical flow: workspace_create (or workspace_prepare for a repo + setup + "golden" snapshot), then exec / file_* / git_* inside it, snapshot to checkpoint, workspace_fork or workspace_batch_fork to branch, and workspace_destroy when done. You see only the workspaces this session created or adopted.`;

// A ready MCP server (connect it to a transport).
export function createToolServer(options: ToolServerOptions): Server {
  const server = new Server({ name: "agentiso", version: options.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  const byName = new Map(options.contracts.map((contract) => [contract.name, contract]));
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolDefinitions(options.contracts) }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const started = performance.now();
    const token = request.params._meta?.progressToken;
    const relay = token === undefined || !byName.get(request.params.name)?.streamsProgress ? undefined : new ProgressRelay(token, (n) => extra.sendNotification(n));
    const result = await callTool(byName, options.call, request.params.name, request.params.arguments ?? {}, { signal: extra.signal, ...(relay && { progress: relay.take }) });
    await relay?.close();
    options.onCall?.(request.params.name, { durationMs: performance.now() - started, ...(result.error && { error: result.error }) });
    return result.answer;
  });
  return server;
}

async function callTool(
  byName: Map<string, OperationContract>,
  call: ToolCaller,
  name: string,
  args: Record<string, unknown>,
  callOptions: ToolCallOptions,
): Promise<{ answer: ToolResult; error?: AgentisoError }> {
  try {
    const contract = byName.get(name);
    if (!contract) throw new AgentisoError("INVALID_INPUT", `unknown tool ${JSON.stringify(name)}: tools/list shows the available tools`);
    // Validate here too: bad arguments are answered without waking the daemon.
    parseInput(contract, args);
    return { answer: successResult(contract, await call(name, args, callOptions)) };
  } catch (err) {
    const error = toAgentisoError(err);
    return { answer: errorResult(error), error };
  }
}
