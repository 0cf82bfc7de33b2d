// workspace_shell: an interactive terminal in a workspace. It needs a user's terminal at the
// other end (raw keystrokes, window sizes), so it is a terminal contract: served only by the
// control API's terminal upgrade (`agentiso ws shell`), never an MCP tool, `agentiso op` entry
// or SDK method — none of those has a terminal (docs/architecture.md, "Terminal operations").
import { z } from "zod";
import { MAX_PTY_DIMENSION } from "../protocol/client-messages.js";
import { defineContract } from "./contract.js";
import { WorkspaceRef } from "./common-schemas.js";
import { EnvVars } from "./exec-contracts.js";

export { MAX_PTY_DIMENSION };
const Dimension = z.number().int().min(1).max(MAX_PTY_DIMENSION);

export const ShellInput = z
  .object({
    workspace: WorkspaceRef,
    argv: z.array(z.string().max(131072)).min(1).max(4096).optional().describe("Program and arguments; default the workspace's shell (/bin/bash, else /bin/sh)"),
    workdir: z.string().min(1).max(4096).optional().describe("Working directory inside the workspace (default /)"),
    env: EnvVars.optional().describe("Extra environment variables, e.g. TERM (the terminal type)"),
    rows: Dimension.describe("Terminal height in character cells"),
    cols: Dimension.describe("Terminal width in character cells"),
  })
  .strict();

export const workspaceShell = defineContract({
  name: "workspace_shell",
  title: "Open an interactive terminal",
  description:
    "Runs a command (default: the workspace's shell) on a pseudo-terminal in a workspace, with the caller's keystrokes as input and window size, until it exits. Needs a terminal: `agentiso ws shell WS`.",
  category: "exec",
  input: ShellInput,
  output: z
    .object({
      exitCode: z.number().int().nullable().describe("The command's exit code (128+N when signal N killed it); null when the terminal itself was killed"),
      signal: z.string().nullable().describe("The signal that killed the terminal, if one did"),
    })
    .strict(),
});
