// Follows a file as it grows (tail -f): every byte written after `from`, handed over in
// bounded chunks, until the signal aborts. A file rotated in place (copy the tail away,
// truncate: core/log-rotation.ts) is followed again from its beginning: it shrank, or — when
// it grew back past our position between two looks — the last bytes we read are not where
// we read them any more.
// Polling, not inotify: a rotation and a burst of writes look the same to both, and a
// quarter second is what a person watching a log expects.
import { open, stat, type FileHandle } from "node:fs/promises";

const POLL_MS = 250;
const CHUNK_BYTES = 64 * 1024;
const MARK_BYTES = 64;

export interface FollowOptions {
  /** Where to start (default: the file's current end). */
  from?: number;
  signal: AbortSignal;
  pollMs?: number;
}

// Calls onBytes with each new chunk (awaited: a slow taker slows the reading); resolves when the signal aborts.
export async function followFile(path: string, onBytes: (bytes: Buffer) => void | Promise<void>, options: FollowOptions): Promise<void> {
  let position = options.from ?? (await stat(path)).size;
  let mark = Buffer.alloc(0);
  const buffer = Buffer.alloc(CHUNK_BYTES);
  while (!options.signal.aborted) {
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    if (size !== position || mark.length > 0) {
      const file = await open(path, "r").catch(() => undefined);
      try {
        if (file && (size < position || !(await stillAt(file, mark, position)))) {
          position = 0;
          mark = Buffer.alloc(0);
        }
        while (file && position < size && !options.signal.aborted) {
          const { bytesRead } = await file.read(buffer, 0, Math.min(CHUNK_BYTES, size - position), position);
          if (bytesRead === 0) break;
          position += bytesRead;
          const bytes = Buffer.from(buffer.subarray(0, bytesRead));
          mark = Buffer.concat([mark, bytes]).subarray(-MARK_BYTES);
          await onBytes(bytes);
        }
      } finally {
        await file?.close();
      }
    }
    await sleep(options.pollMs ?? POLL_MS, options.signal);
  }
}

// Whether the bytes just before position are still the last ones we read.
async function stillAt(file: FileHandle, mark: Buffer, position: number): Promise<boolean> {
  if (mark.length === 0) return true;
  const now = Buffer.alloc(mark.length);
  const { bytesRead } = await file.read(now, 0, mark.length, position - mark.length);
  return bytesRead === mark.length && now.equals(mark);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
