// `agentiso workspace shell WS [-- CMD...]`: a real terminal in a workspace, container or microVM
// (the terminal operation workspace_shell over the control API's terminal upgrade).
import { parseInput } from "../../contract/contract.js";
import { terminalContracts } from "../../contract/registry.js";
import type { CliCommand } from "../command.js";
import { requirePositionals, stringValue } from "../command.js";
import { commandExitCode } from "../exit-codes.js";
import { attachTerminal, windowSize } from "../terminal-attach.js";
import { parseEnvPairs } from "./exec-command.js";

const USAGE = "shell WS [--workdir D] [--env K=V]... [-- CMD [ARGS...]]";

export const shellCommand: CliCommand = {
  name: "shell",
  usage: USAGE,
  summary: "an interactive terminal in the workspace (default: its shell); exits with the command's exit code",
  options: { workdir: { type: "string" }, env: { type: "string", multiple: true } },
  help: () => `usage: agentiso workspace ${USAGE}
  Opens a terminal (a pseudo-terminal) in the workspace — a container or a microVM — and runs
  CMD on it, or the workspace's shell (/bin/bash, else /bin/sh) without one. Keystrokes,
  Ctrl-C (to the foreground command) and window resizes reach the workspace; TERM is yours.
  agentiso exits with the command's exit code (128+N when signal N killed it), or with its
  own exit code when the shell could not start (3: no such workspace, 4: not running).

  When stdin is a terminal it is switched to raw mode while the command runs and restored
  afterwards. When it is not (a pipe, a file), its bytes pass through unchanged: the terminal
  in the workspace still echoes them and translates line endings, and the end of stdin is
  the terminal's end-of-file (Ctrl-D), so \`printf 'make test\\nexit\\n' | agentiso ws shell W\` works.

  --workdir D   working directory in the workspace (default /)
  --env K=V     extra environment variable (repeatable)
`,
  async run(ctx, values, positionals) {
    const [workspace, ...argv] = requirePositionals(this, positionals, 1);
    // The host's TERM: the workspace's programs draw for the terminal the user really has.
    const term = process.env.TERM;
    const input = parseInput(terminalContracts.workspaceShell, {
      workspace,
      ...(argv.length > 0 && { argv }),
      workdir: stringValue(values, "workdir"),
      env: { ...(term && { TERM: term }), ...parseEnvPairs((values.env as string[] | undefined) ?? []) },
      ...windowSize(process.stdout),
    });
    const client = await ctx.daemon();
    const session = await client.openTerminal(terminalContracts.workspaceShell, input, process.stdout);
    const result = await attachTerminal(session, { stdin: process.stdin, stdout: process.stdout });
    return commandExitCode(result.exitCode, result.signal);
  },
};
