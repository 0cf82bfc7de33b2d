// The argv, environment and per-run files of one `opencode run`, independent of where it
// runs (on the host, or inside a workspace through the guest agent's exec): paths are
// POSIX paths in the place where opencode will run. Every run gets its own HOME and XDG
// dirs, so sessions, snapshots and logs of parallel workers never meet.
import { posix } from "node:path";

/** The opencode version these flags, events and config keys were verified against. */
export const OPENCODE_VERSION = "1.18.33";

export interface OpencodeCommandInput {
  prompt: string;
  /** From buildOpencodeConfig. */
  config: Record<string, unknown>;
  /** Absolute directory for this run's HOME/XDG dirs (created by whoever runs it). */
  runDir: string;
  /** Default "opencode" (on PATH; /usr/local/bin/opencode in workspace images). */
  binary?: string;
  /** PATH and other variables opencode's tools need (bash, git). */
  baseEnv?: Record<string, string>;
  /** Only in env key mode: the variable named in the config's {env:...} and the key. */
  keyEnv?: { name: string; value: string };
}

export interface OpencodeCommand {
  argv: string[];
  /** The run's own directory (input.runDir). */
  runDir: string;
  env: Record<string, string>;
  /** Create these directories, then write these files, before running argv. */
  dirs: string[];
  files: Array<{ path: string; content: string }>;
}

// Builds everything needed to start the run; pure, so the guest path and the host path agree.
export function buildOpencodeCommand(input: OpencodeCommandInput): OpencodeCommand {
  const dir = (name: string) => posix.join(input.runDir, name);
  const configHome = dir("config");
  const env: Record<string, string> = {
    ...input.baseEnv,
    HOME: dir("home"),
    XDG_CONFIG_HOME: configHome,
    XDG_DATA_HOME: dir("data"),
    XDG_CACHE_HOME: dir("cache"),
    XDG_STATE_HOME: dir("state"),
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_CONFIG_CONTENT: JSON.stringify(input.config),
  };
  if (input.keyEnv) env[input.keyEnv.name] = input.keyEnv.value;
  const pluginDir = posix.join(configHome, "opencode");
  return {
    // "--": a prompt starting with "-" must not be read as a flag
    argv: [input.binary ?? "opencode", "run", "--format", "json", "--", input.prompt],
    runDir: input.runDir,
    env,
    dirs: [dir("home"), dir("data"), dir("cache"), dir("state"), posix.join(pluginDir, "node_modules")],
    files: [{ path: posix.join(pluginDir, "package-lock.json"), content: pluginLockfile() }],
  };
}

// At start opencode npm-installs @opencode-ai/plugin into its config dir unless node_modules/
// exists and package-lock.json already lists every wanted package: this is that lockfile.
// The run needs no plugin, and the install would be network egress from every worker.
function pluginLockfile(): string {
  const dependencies = { "@opencode-ai/plugin": OPENCODE_VERSION };
  return JSON.stringify({ name: "opencode-config", lockfileVersion: 3, requires: true, packages: { "": { dependencies } } }, null, 2) + "\n";
}

// The same run with another prompt (the planner's second attempt reuses its worker's setup).
export function withPrompt(command: OpencodeCommand, prompt: string): OpencodeCommand {
  return { ...command, argv: [...command.argv.slice(0, -1), prompt] };
}

// The argv that continues a run's session with a new prompt, in the same HOME/XDG dirs (where
// opencode keeps its sessions). Without a session id: --continue, the run dir's last session.
export function continuedArgv(command: OpencodeCommand, sessionId: string | undefined, prompt: string): string[] {
  const session = sessionId !== undefined ? ["--session", sessionId] : ["--continue"];
  return [command.argv[0]!, "run", "--format", "json", ...session, "--", prompt];
}
