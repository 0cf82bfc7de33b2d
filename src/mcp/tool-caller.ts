// How an MCP server reaches the operations: in the daemon it runs them in process; in
// `agentiso serve` it forwards them over the control socket. Either way the caller gets the
// raw arguments and answers with the result or throws an AgentisoError.
export interface ToolCallOptions {
  signal: AbortSignal;
  /** Set when the client asked for progress (a progressToken) and the tool streams it. */
  progress?: (event: unknown) => void;
}

export type ToolCaller = (name: string, args: Record<string, unknown>, options: ToolCallOptions) => Promise<unknown>;
