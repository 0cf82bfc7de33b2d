// A real terminal for tests: one detached tmux session on a private tmux server (its own
// socket name, so nothing of another tmux is touched), driven with send-keys and read with
// capture-pane. The command's exit code is written to a file by a wrapper shell, since the
// pane is gone once the command ends. Disposal kills only this server.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { delay } from "../../src/core/deadline.js";
import { runCommand } from "../../src/core/run-command.js";

export class TmuxTerminal implements AsyncDisposable {
  readonly name = `ais-tmux-${randomBytes(4).toString("hex")}`;
  private readonly codeFile = `/tmp/${this.name}.code`;

  private constructor() {}

  // Starts `argv` (with env) in a new detached session of cols × rows.
  static async start(argv: string[], options: { env: Record<string, string>; cols: number; rows: number }): Promise<TmuxTerminal> {
    const term = new TmuxTerminal();
    const env = Object.entries(options.env).map(([k, v]) => `${k}=${quote(v)}`).join(" ");
    const line = `env ${env} ${argv.map(quote).join(" ")}; echo $? > ${term.codeFile}`;
    await term.tmux("new-session", "-d", "-s", term.name, "-x", String(options.cols), "-y", String(options.rows), "sh", "-c", line);
    return term;
  }

  /** Keys as tmux names them (Enter, C-c, Escape), or literal text with `literal`. */
  async send(keys: string, how: { literal?: boolean } = {}): Promise<void> {
    await this.tmux("send-keys", "-t", this.name, ...(how.literal ? ["-l", keys] : [keys]));
  }

  // Types text literally, then Enter.
  async line(text: string): Promise<void> {
    await this.send(text, { literal: true });
    await this.send("Enter");
  }

  async resize(cols: number, rows: number): Promise<void> {
    await this.tmux("resize-window", "-t", this.name, "-x", String(cols), "-y", String(rows));
  }

  /** The visible screen, trailing blanks trimmed. */
  async screen(): Promise<string> {
    const { stdout } = await this.tmux("capture-pane", "-p", "-t", this.name);
    return stdout.replace(/\s+$/, "");
  }

  // Waits until the screen matches; fails with what the screen showed.
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen().catch((err: Error) => `(no screen: ${err.message})`);
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}; it shows:\n${screen}`);
      await delay(50);
    }
  }

  // The exit code the wrapped command ended with; waits for it to end.
  async exitCode(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(this.codeFile) || readFileSync(this.codeFile, "utf8").trim() === "") {
      if (Date.now() > deadline) throw new Error(`the command in tmux did not end; the screen shows:\n${await this.screen().catch(() => "")}`);
      await delay(50);
    }
    return Number(readFileSync(this.codeFile, "utf8").trim());
  }

  private tmux(...args: string[]): Promise<{ stdout: string }> {
    return runCommand(["tmux", "-L", this.name, ...args]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.tmux("kill-server").catch(() => {}); // this test's own server only (-L name)
    rmSync(this.codeFile, { force: true });
  }
}

function quote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}
