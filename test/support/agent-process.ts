// Starts the real bundled agent (dist/agentiso-guest.cjs) on a unix socket in a fresh temp
// dir, waits for its "agent ready" line, and stops it (by pid) and removes the dir on dispose.
import { spawn, type ChildProcess } from "node:child_process";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connectUnix } from "../../src/guest/connect-unix.js";
import { GuestClient } from "../../src/guest/guest-client.js";

export const AGENT_BUNDLE = resolve(import.meta.dirname, "../../dist/agentiso-guest.cjs");

export interface AgentProcess extends AsyncDisposable {
  child: ChildProcess;
  pid: number;
  dir: string;
  socketPath: string;
  /** Everything the agent wrote to stderr so far. */
  stderr(): string;
  client(): GuestClient;
  /** Resolves with the exit code once the agent has exited. */
  exited: Promise<number | null>;
}

export interface AgentProcessOptions {
  /** argv prefix that runs node (default: this node). */
  node?: string[];
  env?: NodeJS.ProcessEnv;
  /** uid/gid that will own the temp dir (for an agent run as another user). */
  owner?: number;
}

// Spawns the agent and resolves once it listens.
export async function startAgentProcess(options: AgentProcessOptions = {}): Promise<AgentProcess> {
  const dir = await mkdtemp(join(tmpdir(), "agentiso-agent-test-"));
  const socketPath = join(dir, "agent.sock");
  if (options.owner !== undefined) await chown(dir, options.owner, options.owner);
  const [node, ...nodeArgs] = options.node ?? [process.execPath];
  const child = spawn(node!, [...nodeArgs, AGENT_BUNDLE, "--listen", `unix:${socketPath}`], {
    cwd: dir,
    env: options.env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, TMPDIR: dir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('"agent ready"')) resolve();
      });
      void exited.then((code) => reject(new Error(`agent exited with ${code} before ready: ${stderr}`)));
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const clients: GuestClient[] = [];
  return {
    child, pid: child.pid!, dir, socketPath, exited,
    stderr: () => stderr,
    client: () => {
      const client = new GuestClient({ connect: connectUnix(socketPath) });
      clients.push(client);
      return client;
    },
    [Symbol.asyncDispose]: async () => {
      await Promise.all(clients.map((c) => c.close()));
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
