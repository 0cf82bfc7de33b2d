// Every MCP tool through `agentiso serve` (stdio), launched the way an MCP client launches it.
import { describeToolSuite } from "./mcp-tool-suite.js";
import { stdioClient } from "./mcp-clients.js";

describeToolSuite("MCP over stdio (agentiso serve)", (cli, session) => stdioClient(cli, session));
