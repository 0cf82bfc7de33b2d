// `agentiso serve [--session NAME]`: an MCP server on stdio for MCP clients (OpenCode, Claude
// Code, Cursor...). A thin bridge: the tool list comes from the operations registry (no engine,
// no daemon needed to answer tools/list), and each call is forwarded to the daemon, which is
// started on the first call that needs it. The session id makes the workspaces this process
// creates its own; give --session to keep them across restarts of the MCP client.
import { randomBytes } from "node:crypto";
import { assertValidName } from "../../core/names.js";
import { stringValue, type CliCommand } from "../command.js";

export const serveCommand: CliCommand = {
  name: "serve",
  usage: "serve [--session NAME]",
  summary: "MCP server on stdio (for MCP clients); workspaces it creates belong to its session",
  options: { session: { type: "string" } },
  async run(ctx, values) {
    const given = stringValue(values, "session");
    const session = given === undefined ? `serve-${randomBytes(6).toString("hex")}` : assertValidName(given, "session");
    const { serveStdio } = await import("../serve-stdio.js");
    return serveStdio(ctx, session);
  },
};
