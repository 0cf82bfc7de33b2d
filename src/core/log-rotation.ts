// Log files that grow while others write them — daemon.log (the daemon's own stderr), a
// workspace's console (tini's stdout, which workspace code can write through /proc/1/fd/1;
// QEMU's serial console) — kept to a size. Rotation is in place: the last maxBytes are copied to
// path.1 (older copies shift up to path.<keep>) and the file is truncated, because its writers
// hold it open with O_APPEND and cannot be asked to reopen it: their next write lands at 0.
import { watch, type FSWatcher } from "node:fs";
import { open, rename, stat, truncate } from "node:fs/promises";
import type { Logger } from "./logger.js";

export interface RotationPolicy {
  /** Past this size the file rotates. */
  maxBytes: number;
  /** Rotated copies kept: path.1 (newest) .. path.<keep>. */
  keep: number;
}

const COPY_CHUNK_BYTES = 64 * 1024;
/** How often a guarded file is checked besides its inotify events (a missed event, a full queue). */
const CHECK_EVERY_MS = 5_000;

// Rotates path when it is over maxBytes; true when it did. A missing file is not an error.
export async function rotateIfOver(path: string, policy: RotationPolicy): Promise<boolean> {
  const size = await stat(path).then((st) => st.size, () => 0);
  if (size <= policy.maxBytes) return false;
  for (let n = policy.keep - 1; n >= 1; n--) await rename(`${path}.${n}`, `${path}.${n + 1}`).catch(() => {});
  await copyTail(path, `${path}.1`, policy.maxBytes);
  await truncate(path, 0);
  return true;
}

// Copies the last maxBytes of from into to, through a fixed buffer (the file may be huge).
async function copyTail(from: string, to: string, maxBytes: number): Promise<void> {
  const source = await open(from, "r");
  const target = await open(to, "w", 0o600);
  try {
    const { size } = await source.stat();
    const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    for (let at = Math.max(0, size - maxBytes); at < size; ) {
      const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, size - at), at);
      if (bytesRead === 0) break;
      await target.write(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await source.close();
    await target.close();
  }
}

/** Keeps files at most about maxBytes: checks each on every change (inotify) and every few seconds. */
export class LogRotation {
  private readonly guarded = new Map<string, { watcher: FSWatcher | undefined; checking: boolean; again: boolean }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly policy: RotationPolicy,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => {
      for (const path of this.guarded.keys()) this.check(path);
    }, CHECK_EVERY_MS).unref();
  }

  // Starts guarding path (checked at once: it may have grown while nobody watched).
  guard(path: string): void {
    if (this.guarded.has(path)) return;
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(path, { persistent: false }, () => this.check(path));
      watcher.on("error", () => {});
    } catch {
      // not there yet, or no inotify watch left: the timer still checks it
    }
    this.guarded.set(path, { watcher, checking: false, again: false });
    this.check(path);
  }

  unguard(path: string): void {
    this.guarded.get(path)?.watcher?.close();
    this.guarded.delete(path);
  }

  close(): void {
    clearInterval(this.timer);
    for (const path of [...this.guarded.keys()]) this.unguard(path);
  }

  // One rotation at a time per file; events during it ask for one more check after it.
  private check(path: string): void {
    const entry = this.guarded.get(path);
    if (!entry) return;
    if (entry.checking) {
      entry.again = true;
      return;
    }
    entry.checking = true;
    void rotateIfOver(path, this.policy)
      .catch((err: unknown) => this.logger.warn("cannot rotate a log file", { path, err }))
      .finally(() => {
        entry.checking = false;
        if (entry.again) {
          entry.again = false;
          this.check(path);
        }
      });
  }
}
