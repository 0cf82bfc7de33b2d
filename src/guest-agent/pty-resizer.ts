// Window-size changes of a pty opened by `script`: Node has no ioctl, so the agent runs
// `stty -F /dev/pts/N rows R cols C`; the kernel then sends SIGWINCH to the terminal's
// foreground process group, as for a local terminal. The pty is found through /proc: the
// first child of `script` (the session leader it started) has it as stdin, stdout or stderr.
// Resizes run one at a time and coalesce: a burst of them (a window being dragged) ends in
// the last size, never in an older one.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { AgentLog } from "./agent-log.js";

/** How long a resize waits for `script` to have started its child (normally well under 10 ms). */
const FIND_PTY_TIMEOUT_MS = 5_000;
const FIND_PTY_POLL_MS = 5;
const PTS_PATH = /^\/dev\/pts\/\d+$/;

export class PtyResizer {
  private pts: string | undefined;
  private next: { rows: number; cols: number } | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly scriptPid: number,
    private readonly stty: string,
    private readonly log: AgentLog,
  ) {}

  /** Asks for this size; applied after any resize already running. */
  resize(rows: number, cols: number): void {
    this.next = { rows, cols };
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once every requested size has been applied (or failed). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.next) {
      const { rows, cols } = this.next;
      this.next = undefined;
      try {
        this.pts ??= await findPty(this.scriptPid);
        await runStty(this.stty, ["-F", this.pts, "rows", String(rows), "cols", String(cols)]);
      } catch (err) {
        // the session may be ending; a failed resize must not end it
        this.log.info("pty resize failed", { error: (err as Error).message });
      }
    }
  }
}

// The pts of the session `script` started; polls briefly, since script forks it right after its own start.
export async function findPty(scriptPid: number): Promise<string> {
  const deadline = Date.now() + FIND_PTY_TIMEOUT_MS;
  for (;;) {
    const child = childOf(scriptPid);
    const pts = child === undefined ? undefined : ptyOf(child);
    if (pts) return pts;
    if (Date.now() > deadline) throw new Error(`no pty found for script (pid ${scriptPid})`);
    await new Promise((resolve) => setTimeout(resolve, FIND_PTY_POLL_MS));
  }
}

// The first child of pid: /proc/PID/task/PID/children where the kernel has it, else a scan of /proc.
function childOf(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)[0];
    if (first) return Number(first);
  } catch {
    // CONFIG_PROC_CHILDREN off: scan below
  }
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) return Number(entry);
    } catch {
      // the process has gone
    }
  }
  return undefined;
}

function ptyOf(pid: number): string | undefined {
  for (const fd of [0, 1, 2]) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (PTS_PATH.test(target)) return target;
    } catch {
      // gone, or not yet exec'd
    }
  }
  return undefined;
}

function runStty(stty: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(stty, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-500)));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`stty exited ${code}: ${stderr.trim()}`))));
  });
}
