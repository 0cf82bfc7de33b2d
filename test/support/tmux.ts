// A real terminal for tests: one detached tmux session on a private tmux server (its own
// socket name, so nothing of another tmux is touched), driven with send-keys and read with
// capture-pane. A wrapper shell writes the command's exit code to a file (the pane is gone
// once the command ends) and the terminal's settings before and after it (`stty -g`), so a
// test can tell the command restored them. Disposal kills only this server.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { delay } from "../../src/core/deadline.js";
import { runCommand } from "../../src/core/run-command.js";

export class TmuxTerminal implements AsyncDisposable {
  readonly name = `ais-tmux-${randomBytes(4).toString("hex")}`;
  private readonly codeFile = `/tmp/${this.name}.code`;
  /** The terminal's settings (`stty -g`) before and after the command: equal when it restored them. */
  private readonly sttyFiles = [`/tmp/${this.name}.stty-before`, `/tmp/${this.name}.stty-after`] as const;

  private constructor() {}

  // Starts `argv` (with env) in a new detached session of cols × rows.
  static async start(argv: string[], options: { env: Record<string, string>; cols: number; rows: number }): Promise<TmuxTerminal> {
    const term = new TmuxTerminal();
    const env = Object.entries(options.env).map(([k, v]) => `${k}=${quote(v)}`).join(" ");
    const [before, after] = term.sttyFiles;
    const line = `stty -g > ${before}; env ${env} ${argv.map(quote).join(" ")}; code=$?; stty -g > ${after}; echo $code > ${term.codeFile}`;
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

  /** True when the terminal's settings after the command equal those before it (call after exitCode). */
  settingsRestored(): boolean {
    const [before, after] = this.sttyFiles.map((file) => readFileSync(file, "utf8").trim());
    return before !== "" && before === after;
  }

  /** The pid of the command (the wrapper shell's child). */
  async commandPid(): Promise<number> {
    const { stdout } = await this.tmux("list-panes", "-t", this.name, "-F", "#{pane_pid}");
    const children = readFileSync(`/proc/${stdout.trim()}/task/${stdout.trim()}/children`, "utf8").trim().split(/\s+/);
    return Number(children[0]);
  }

  private tmux(...args: string[]): Promise<{ stdout: string }> {
    return runCommand(["tmux", "-L", this.name, ...args]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.tmux("kill-server").catch(() => {}); // this test's own server only (-L name)
    for (const file of [this.codeFile, ...this.sttyFiles]) rmSync(file, { force: true });
  }
}

function quote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}
