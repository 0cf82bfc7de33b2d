// Every command runs as the leader of its own process group, so a timeout, a cancel or a
// vanished client kills the command AND everything it started: kill(-pgid).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { WireError } from "./wire-error.js";

export interface CommandSpec {
  argv?: string[] | undefined;
  shell?: string | undefined;
  cwd?: string | undefined;
}

// Checks that exactly one of argv/shell is given and returns what to spawn.
export function resolveCommand(spec: CommandSpec): { file: string; args: string[]; display: string } {
  if ((spec.argv === undefined) === (spec.shell === undefined)) {
    throw new WireError("INVALID_REQUEST", "give exactly one of argv (no shell) or shell (run by /bin/sh -c)");
  }
  if (spec.argv) return { file: spec.argv[0]!, args: spec.argv.slice(1), display: spec.argv.join(" ") };
  return { file: "/bin/sh", args: ["-c", spec.shell!], display: spec.shell! };
}

// Spawns the command in a new process group with piped stdio. PWD follows the working
// directory, as a shell would set it: programs that trust $PWD over getcwd() (opencode does)
// must not see the agent's own directory (/ in a VM, where init exported PWD=/).
export function spawnGroup(spec: CommandSpec, env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  const { file, args } = resolveCommand(spec);
  const childEnv = spec.cwd?.startsWith("/") ? { ...env, PWD: spec.cwd } : withoutPwd(env);
  return spawn(file, args, { cwd: spec.cwd, env: childEnv, detached: true, stdio: ["pipe", "pipe", "pipe"] });
}

// Without an absolute cwd, an inherited PWD may not say where the child runs.
function withoutPwd(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { PWD: _pwd, ...rest } = env;
  return rest;
}

// Signals the whole group; quiet when it is already gone.
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = "SIGKILL"): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group has already exited
  }
}

// Resolves with the spawn error, or undefined once the child has started.
export function spawnOutcome(child: ChildProcessWithoutNullStreams): Promise<Error | undefined> {
  return new Promise((resolve) => {
    child.once("spawn", () => resolve(undefined));
    child.once("error", (err) => resolve(err));
  });
}

// Describes a spawn failure so the user knows what to fix.
export function execFailed(err: Error, spec: CommandSpec): WireError {
  const errno = (err as NodeJS.ErrnoException).code;
  const what = spec.argv ? spec.argv[0] : "/bin/sh";
  const hint = errno === "ENOENT" ? ` (no such program, or cwd ${JSON.stringify(spec.cwd ?? ".")} does not exist)` : "";
  return new WireError("EXEC_FAILED", `could not start ${what}: ${errno ?? err.message}${hint}`);
}
