// Joins the user's terminal to a terminal session (`agentiso ws shell`): once the command
// runs, stdin goes raw when it is a TTY (Ctrl-C, Ctrl-Z, arrows reach the workspace; the
// user's terminal is restored on every way out: exit, error, SIGTERM, SIGHUP, SIGINT),
// keystrokes and window resizes (SIGWINCH) flow to the daemon, and the end of a piped stdin
// becomes the terminal's EOF. Until the command runs the terminal stays cooked, so Ctrl-C
// still stops a shell that hangs on its way up.
import type { TerminalClientSession } from "../api/terminal-client.js";

export interface TerminalIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

/** The window size a new terminal gets when stdout is not a terminal. */
export const DEFAULT_SIZE = { rows: 24, cols: 80 };

/** Signals after which the terminal is restored before agentiso dies of them (in raw mode Ctrl-C is a keystroke, so SIGINT comes only from kill). */
const HANGUP_SIGNALS = ["SIGTERM", "SIGHUP", "SIGINT"] as const;

// The user's window size (from stdout when it is a terminal).
export function windowSize(stdout: NodeJS.WriteStream): { rows: number; cols: number } {
  if (!stdout.isTTY) return DEFAULT_SIZE;
  const [cols, rows] = stdout.getWindowSize();
  return cols > 0 && rows > 0 ? { rows, cols } : DEFAULT_SIZE;
}

// Runs the session to its end; resolves with the call's result, throws its error, terminal restored either way.
export async function attachTerminal<T>(session: TerminalClientSession<T>, io: TerminalIo): Promise<T> {
  const undo: Array<() => void> = [];
  try {
    await Promise.race([session.started, session.result]);
    if (io.stdin.isTTY) {
      const restore = () => io.stdin.setRawMode(false);
      io.stdin.setRawMode(true);
      process.once("exit", restore); // even a crash must not leave the terminal raw
      undo.push(() => (restore(), process.off("exit", restore)));
    }
    relayInput(session, io, undo);
    if (io.stdout.isTTY) {
      const onResize = () => session.resize(...resizeArgs(io.stdout));
      io.stdout.on("resize", onResize);
      undo.push(() => io.stdout.off("resize", onResize));
    }
    for (const signal of HANGUP_SIGNALS) {
      const onSignal = () => {
        for (const step of undo.splice(0).reverse()) step();
        session.close();
        process.kill(process.pid, signal); // our handlers are gone: die of it, as a shell would report
      };
      process.once(signal, onSignal);
      undo.push(() => process.off(signal, onSignal));
    }
    return await session.result;
  } finally {
    for (const step of undo.splice(0).reverse()) step();
  }
}

// stdin → keystrokes (paused while the socket is full), its end → end of input.
function relayInput<T>(session: TerminalClientSession<T>, io: TerminalIo, undo: Array<() => void>): void {
  const onData = (chunk: Buffer) => {
    if (session.write(chunk)) return;
    io.stdin.pause();
    session.transport.once("drain", () => io.stdin.resume());
  };
  const onEnd = () => session.end();
  io.stdin.on("data", onData);
  io.stdin.once("end", onEnd);
  io.stdin.resume();
  undo.push(() => {
    io.stdin.off("data", onData);
    io.stdin.off("end", onEnd);
    io.stdin.pause(); // or the open stdin keeps the CLI alive after the command exited
  });
}

function resizeArgs(stdout: NodeJS.WriteStream): [number, number] {
  const { rows, cols } = windowSize(stdout);
  return [rows, cols];
}
