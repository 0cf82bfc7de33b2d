// workspace_shell: relays a user's terminal (TerminalChannel) to a pty in the workspace,
// after the owner check of every workspace operation (guestFor). Output flows under the
// guest stream's flow control and the front door's backpressure; input waits for the agent's
// window. Ends with the command's exit; a user who goes away cancels it (the agent kills it).
import { AgentisoError } from "../core/errors.js";
import type { PtySession } from "../guest/pty-session.js";
import { terminalContracts } from "../contract/registry.js";
import { defineOperation } from "./operation.js";
import { guestFor } from "./guest-for.js";
import type { TerminalInput } from "./terminal-channel.js";

export const workspaceShell = defineOperation(terminalContracts.workspaceShell, {
  run: async (ctx, input) => {
    const terminal = ctx.terminal;
    if (!terminal) throw new AgentisoError("UNSUPPORTED", "workspace_shell needs a terminal: run `agentiso ws shell`");
    const { guest } = await guestFor(ctx, input.workspace);
    const pty = await guest.openPty(
      {
        ...(input.argv !== undefined && { argv: input.argv }),
        ...(input.workdir !== undefined && { cwd: input.workdir }),
        ...(input.env !== undefined && { env: input.env }),
        rows: input.rows,
        cols: input.cols,
      },
      { signal: ctx.signal },
    );
    try {
      terminal.started();
      feedInput(terminal.input, pty).catch(() => pty.close());
      for await (const chunk of pty.output) await terminal.write(chunk);
      const { exitCode, signal } = await pty.result;
      return { exitCode, signal };
    } finally {
      pty.close(); // nothing once the command has exited
    }
  },
});

// The user's keystrokes, window sizes and end of input, in order, until the input ends.
async function feedInput(input: AsyncIterable<TerminalInput>, pty: PtySession): Promise<void> {
  for await (const event of input) {
    if (event.type === "data") await pty.write(event.data);
    else if (event.type === "resize") pty.resize(event.rows, event.cols);
    else pty.end();
  }
}
