// A thin wrapper over an OCI runtime's CLI: runc, or crun, which takes the same commands and
// flags. Its state is under the engine's state dir (`--root <stateDir>/<runtime>`), so `list`
// shows this engine's containers and no one else's.
import { access, chown, readFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../../core/errors.js";
import { readTail } from "../../core/read-tail.js";
import { assertValidName } from "../../core/names.js";
import { commandFailed, runCommand } from "../../core/run-command.js";

export type RuncStatus = "creating" | "created" | "running" | "paused" | "stopped";

export interface RuncState {
  id: string;
  pid: number;
  status: RuncStatus;
  bundle: string;
  annotations?: Record<string, string>;
}

export type OciRuntimeName = "runc" | "crun";

// runc says "does not exist"; crun cannot open the container's status file
const NOT_FOUND = /does not exist|not found|container .* is not exist|No such file or directory/i;

// Each method is one invocation of the runtime; "no such container" is an answer (undefined/false), not an error.
export class OciCli {
  constructor(
    readonly name: OciRuntimeName,
    private readonly root: string,
  ) {}

  // Starts the container detached; init's stdout/stderr go to logPath (the runtime hands its own stdio to init).
  // Returns init's host pid (from --pid-file: one `state` spawn fewer on the start path).
  // With netnsName, the same shell then names the network namespace the runtime made (`ip netns
  // attach`): one spawn of the daemon per start instead of two. A failed attach is returned, not
  // thrown: the caller tells "init died at once" (a host node that cannot run here) from the rest.
  async runDetached(id: string, bundle: string, logPath: string, options: { signal?: AbortSignal; netnsName?: string } = {}): Promise<{ pid: number; attachError?: AgentisoError }> {
    // Through sh so init inherits a file, not runCommand's pipes (which would stay open until the
    // workspace stops). Its stdin is an empty pipe, never the host's /dev/null: crun fchowns init's
    // stdio to the container's root, and a workspace owning the host's /dev/null could chmod it
    // through /proc/1/fd/0 for every process on the host.
    const script = 'log="$1"; pidfile="$2"; ns="$3"; shift 3; : | "$@" >>"$log" 2>&1 || exit; echo started; [ -z "$ns" ] || exec ip netns attach "$ns" "$(cat "$pidfile")"';
    const pidFile = join(bundle, "init.pid");
    const netns = options.netnsName === undefined ? "" : assertValidName(options.netnsName, "network namespace name");
    const argv = [this.name, "--root", this.root, "run", "--detach", "--pid-file", pidFile, "--bundle", bundle, id];
    const result = await runCommand(["sh", "-c", script, "sh", logPath, pidFile, netns, ...argv], { signal: options.signal, timeoutMs: 30_000, check: false });
    const started = result.stdout.startsWith("started");
    if (!started) {
      const tail = (await readTail(logPath, 2000)).trim();
      throw new AgentisoError("BACKEND_FAILED", `${this.name} could not start workspace container ${id}: ${tail}`, { details: { id, exitCode: result.exitCode } });
    }
    // crun fchowns init's stdio to the container's root (runc leaves it alone): the console log would
    // then be the workspace's to reopen through /proc/1/fd/1 and write at will. It goes back to
    // the daemon before the agent is asked anything, so before any workspace code runs; the
    // agent and tini keep the descriptors they hold.
    await chown(logPath, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    const pid = Number.parseInt(await readFile(pidFile, "utf8"), 10);
    if (result.exitCode === 0) return { pid };
    return { pid, attachError: commandFailed(["ip", "netns", "attach", netns, String(pid)], result) };
  }

  // The container's state, or undefined when the runtime does not know it.
  async state(id: string): Promise<RuncState | undefined> {
    // the runtime keeps each container's state in <root>/<id>/: without it there is nothing to ask (one spawn fewer per start)
    if (!(await this.knows(id))) return undefined;
    const result = await runCommand([this.name, "--root", this.root, "state", id], { check: false, timeoutMs: 10_000 });
    if (result.exitCode !== 0) {
      if (NOT_FOUND.test(result.stderr)) return undefined;
      throw new AgentisoError("BACKEND_FAILED", `${this.name} state ${id} failed: ${result.stderr.trim()}`);
    }
    return JSON.parse(result.stdout) as RuncState;
  }

  // Sends a signal to init (all: every process of the container). Returns false when nothing was running.
  async kill(id: string, signal: "TERM" | "KILL", options: { all?: boolean } = {}): Promise<boolean> {
    const argv = [this.name, "--root", this.root, "kill", ...(options.all ? ["--all"] : []), id, signal];
    const result = await runCommand(argv, { check: false, timeoutMs: 10_000 });
    return result.exitCode === 0;
  }

  // Freezes every process of the container (the cgroup freezer: v1 freezer.state or v2 cgroup.freeze); status becomes "paused".
  async pause(id: string): Promise<void> {
    const result = await runCommand([this.name, "--root", this.root, "pause", id], { check: false, timeoutMs: 30_000 });
    if (result.exitCode !== 0) throw new AgentisoError("BACKEND_FAILED", `${this.name} pause ${id} failed: ${result.stderr.trim()}`, { details: { id } });
  }

  // Thaws a paused container.
  async resume(id: string): Promise<void> {
    const result = await runCommand([this.name, "--root", this.root, "resume", id], { check: false, timeoutMs: 30_000 });
    if (result.exitCode !== 0) throw new AgentisoError("BACKEND_FAILED", `${this.name} resume ${id} failed: ${result.stderr.trim()}`, { details: { id } });
  }

  // Removes the container (killing it if needed); a container the runtime does not know is already gone.
  async delete(id: string): Promise<void> {
    const result = await runCommand([this.name, "--root", this.root, "delete", "--force", id], { check: false, timeoutMs: 30_000 });
    if (result.exitCode !== 0 && !NOT_FOUND.test(result.stderr)) {
      throw new AgentisoError("BACKEND_FAILED", `${this.name} delete ${id} failed: ${result.stderr.trim()}`, { details: { id } });
    }
  }

  // Whether the runtime has state for id, read from its root directory instead of spawning it.
  async knows(id: string): Promise<boolean> {
    return access(join(this.root, id)).then(() => true, () => false);
  }

  // Ids of every container under this root, in any status (none, without a spawn, before the first start).
  async list(): Promise<string[]> {
    if (!(await access(this.root).then(() => true, () => false))) return [];
    const result = await runCommand([this.name, "--root", this.root, "list", "--format", "json"], { timeoutMs: 10_000 });
    const parsed = JSON.parse(result.stdout || "null") as Array<{ id: string }> | null;
    return (parsed ?? []).map((c) => c.id);
  }

  // Runs a command in the running container (tests and diagnostics; the engine uses the agent).
  exec(id: string, argv: readonly string[], options: { timeoutMs?: number; input?: string } = {}) {
    return runCommand([this.name, "--root", this.root, "exec", id, ...argv], { check: false, timeoutMs: options.timeoutMs ?? 60_000, input: options.input });
  }
}
