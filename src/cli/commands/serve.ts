// `agentiso serve [--session NAME]`: an MCP server on stdio for MCP clients (OpenCode, Claude
// Code, Cursor...). A thin bridge: the tool list comes from the operations registry (no engine,
// no daemon needed to answer tools/list), and each call is forwarded to the daemon, which is
// started on the first call that needs it. The session id makes the workspaces this process
// creates its own; give --session to keep them across restarts of the MCP client.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { assertValidName } from "../../core/names.js";
import { daemonCaller } from "../../mcp/daemon-caller.js";
import { OversizeGuard, oversizedAnswer } from "../../mcp/oversize-guard.js";
import { createToolServer } from "../../mcp/tool-server.js";
import { OPERATIONS } from "../../operations/registry.js";
import { PACKAGE_ROOT } from "../../compose/engine-factory.js";
import { stringValue, type CliCommand } from "../command.js";
import { ensureDaemon } from "../daemon-control.js";

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export const serveCommand: CliCommand = {
  name: "serve",
  usage: "serve [--session NAME]",
  summary: "MCP server on stdio (for MCP clients); workspaces it creates belong to its session",
  options: { session: { type: "string" } },
  async run(ctx, values) {
    const given = stringValue(values, "session");
    const session = given === undefined ? `serve-${randomBytes(6).toString("hex")}` : assertValidName(given, "session");
    const server = createToolServer({
      operations: OPERATIONS,
      version: (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version,
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
  },
};
