// How operation outcomes look to an MCP client. Errors are tool results with isError (not
// JSON-RPC errors), so the model reads the code, the message and what to do next, and the
// server carries on. The ONE table from AgentisoError codes to MCP lives here.
import type { ErrorCode } from "../core/errors.js";
import type { AgentisoError } from "../core/errors.js";
import type { OperationContract } from "../contract/contract.js";
import { WRAPPED_RESULT_KEY, wrapsResult } from "./tool-definitions.js";

export interface ToolResult {
  [key: string]: unknown;
  content: Array<{ type: "text"; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** Per code: what the caller should do next, and whether calling again as is may succeed. */
export const MCP_ERRORS: Record<ErrorCode, { hint: string; retryable: boolean }> = {
  INVALID_INPUT: { hint: "fix the arguments (see the tool's input schema) and call again", retryable: false },
  NOT_FOUND: { hint: "check the name or id (workspace_list shows this session's workspaces)", retryable: false },
  INVALID_STATE: { hint: "bring the workspace into the needed state first (e.g. workspace_start)", retryable: false },
  CONFLICT: { hint: "pick another name or remove what is in the way", retryable: false },
  TIMEOUT: { hint: "the operation ran out of time: raise timeoutMs or split the work", retryable: true },
  CANCELLED: { hint: "the call was cancelled", retryable: true },
  GUEST_UNREACHABLE: { hint: "the workspace's agent does not answer: check workspace_info / workspace_logs, or restart it", retryable: true },
  BACKEND_FAILED: { hint: "a host tool failed: the message has its output; the operator may need to run `agentiso check`", retryable: true },
  QUOTA_EXCEEDED: { hint: "a limit was reached: wait as the message says, or free resources", retryable: true },
  TOO_LARGE: { hint: "the workspace produced more bytes than agentiso takes at once: read it in ranges, make it smaller, or ask the operator to raise the cap ([caps] in config.toml)", retryable: false },
  UNSUPPORTED: { hint: "this host cannot do that: choose another option", retryable: false },
  PERMISSION_DENIED: { hint: "this session may not do that (own workspaces only; host paths inside the transfer directory)", retryable: false },
  INTERNAL: { hint: "an agentiso bug: please report it with the message", retryable: false },
};

// A failed call as an MCP tool result: "CODE: message" text plus the same as structured content.
export function errorResult(error: AgentisoError): ToolResult {
  const { hint, retryable } = MCP_ERRORS[error.code];
  return {
    isError: true,
    content: [{ type: "text", text: `${error.code}: ${error.message}\n(${hint})` }],
    structuredContent: { error: { code: error.code, message: error.message, hint, retryable, ...(error.details && { details: error.details }) } },
  };
}

// A successful call: the operation's result as JSON text (what every client shows the model)
// and as structured content matching the tool's outputSchema.
export function successResult(contract: OperationContract, value: unknown): ToolResult {
  const structured = wrapsResult(contract) ? { [WRAPPED_RESULT_KEY]: value ?? null } : (value as Record<string, unknown>);
  return { content: [{ type: "text", text: JSON.stringify(value ?? null, null, 2) }], structuredContent: structured };
}
