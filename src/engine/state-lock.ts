// One engine per state dir: it owns the pool, the containers and the database. The lock is a
// listening socket in Linux's abstract namespace, named after the state dir: binding a name is
// atomic, and the kernel frees it the moment its holder dies (SIGKILL included), so there is
// no stale lock to take over and no window in which two starters both win. (The pid file this
// replaced had both: a reader could find it still empty, call it stale and delete it while its
// creator went on.) `engine.lock` beside the database still names the holder's pid, for
// messages and tools; it decides nothing.
import { createHash } from "node:crypto";
import { readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import { isRunningSync } from "../core/process-state.js";

export interface StateLock {
  readonly path: string;
  release(): void;
}

// Takes the lock or throws CONFLICT naming the pid that holds it.
export async function acquireStateLock(stateDir: string): Promise<StateLock> {
  const path = join(stateDir, "engine.lock");
  const server = createServer((socket) => socket.destroy());
  try {
    await listen(server, lockName(stateDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    const holder = await liveHolder(stateDir);
    throw new AgentisoError("CONFLICT", `another agentiso engine${holder === undefined ? "" : ` (pid ${holder})`} owns ${stateDir}: use its daemon, or stop it with \`agentiso daemon stop\``, {
      ...(holder !== undefined && { details: { pid: holder } }),
    });
  }
  server.unref(); // the lock must not keep a finished process alive
  writePidFile(path);
  return {
    path,
    release: () => {
      if (readLockHolder(stateDir) === process.pid) unlinkSync(path);
      server.close();
    },
  };
}

/** The pid recorded by the engine that holds (or last held) the lock of stateDir. */
export function readLockHolder(stateDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(stateDir, "engine.lock"), "utf8").trim(), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

// The holder writes its pid right after it binds: a loser of a close race may look first. Give
// it a moment to appear, for the message; nothing depends on finding it.
async function liveHolder(stateDir: string): Promise<number | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pid = readLockHolder(stateDir);
    if (pid !== undefined && isRunningSync(pid)) return pid;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

// The same state dir reached through a symlink must give the same name.
function lockName(stateDir: string): string {
  const digest = createHash("sha256").update(realpathSync(stateDir)).digest("hex").slice(0, 40);
  return `\0agentiso/engine/${digest}`;
}

function listen(server: Server, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ path: name }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

// Written whole under a temporary name, then renamed: a reader never sees it half-written.
function writePidFile(path: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${process.pid}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}
