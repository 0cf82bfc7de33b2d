// The MCP stdio server behind `agentiso serve` (loaded only by that command: the MCP SDK is most
// of what the CLI would otherwise parse at every start).
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { daemonCaller } from "../mcp/daemon-caller.js";
import { OversizeGuard, oversizedAnswer } from "../mcp/oversize-guard.js";
import { createToolServer } from "../mcp/tool-server.js";
import { CONTRACTS } from "../contract/registry.js";
import { packageVersion } from "../compose/package-root.js";
import type { CliContext } from "./cli-context.js";
import { ensureDaemon } from "./daemon-control.js";

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

// Serves MCP on stdin/stdout until the client closes stdin; tool calls go to the daemon as `session`.
export async function serveStdio(ctx: CliContext, session: string): Promise<number> {
  const server = createToolServer({
    contracts: CONTRACTS,
    version: packageVersion(),
    call: daemonCaller(() => ensureDaemon(ctx.config, { session })),
    onCall: (tool, outcome) => ctx.logger.debug("tool call", { tool, durationMs: Math.round(outcome.durationMs), ...(outcome.error && { code: outcome.error.code }) }),
  });
  // Oversized lines are answered here instead of closing the connection (the SDK's reaction).
  const guard = new OversizeGuard(MAX_MESSAGE_BYTES, (message) => {
    const answer = oversizedAnswer(message, MAX_MESSAGE_BYTES);
    if (answer) process.stdout.write(answer);
  });
  process.stdin.pipe(guard);
  const transport = new StdioServerTransport(guard, process.stdout, { maxBufferSize: MAX_MESSAGE_BYTES + 1 });
  const closed = new Promise<void>((resolve) => (server.onclose = resolve));
  // The client ends the session by closing our stdin.
  guard.once("end", () => void server.close());
  await server.connect(transport);
  ctx.logger.debug("mcp serve ready", { session });
  await closed;
  return 0;
}
