// Commands outside `workspace`: init, check, daemon, image, teardown, serve (MCP on stdio), orchestrate, op (any operation), dashboard, llm-stub.
import type { CliCommand } from "../command.js";
import { initCommand, checkCommand } from "./setup.js";
import { daemonCommand } from "./daemon.js";
import { imageCommand } from "./image.js";
import { teardownCommand } from "./teardown.js";
import { serveCommand } from "./serve.js";
import { orchestrateCommand } from "./orchestrate.js";
import { llmStubCommand } from "./llm-stub.js";
import { opCommand } from "./op.js";
import { dashboardCommand } from "./dashboard.js";

export const TOP_LEVEL_COMMANDS: readonly CliCommand[] = [initCommand, checkCommand, daemonCommand, imageCommand, teardownCommand, serveCommand, orchestrateCommand, opCommand, dashboardCommand, llmStubCommand];
