// One engine per state dir: it owns the pool, the containers and the database. The lock is a
// pid file created exclusively; a stale file (its process is gone) is taken over.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import { isRunningSync } from "../core/process-state.js";

export interface StateLock {
  readonly path: string;
  release(): void;
}

// Takes the lock or throws CONFLICT naming the pid that holds it.
export function acquireStateLock(stateDir: string): StateLock {
  const path = join(stateDir, "engine.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { path, release: () => releaseIfOurs(path) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = readHolder(path);
      if (holder !== undefined && (holder === process.pid || isRunningSync(holder))) {
        throw new AgentisoError("CONFLICT", `another agentiso engine (pid ${holder}) owns ${stateDir}: use its daemon, or stop it with \`agentiso daemon stop\``, {
          details: { pid: holder },
        });
      }
      unlinkSync(path); // stale: its process is gone
    }
  }
  throw new AgentisoError("CONFLICT", `cannot take the engine lock ${path}`);
}

function readHolder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function releaseIfOurs(path: string): void {
  if (readHolder(path) === process.pid) unlinkSync(path);
}
