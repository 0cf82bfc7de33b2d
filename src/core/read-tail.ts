// The last bytes of a log file (console logs, daemon logs), "" when it does not exist.
import { open } from "node:fs/promises";

// Reads at most maxBytes from the end of path as UTF-8.
export async function readTail(path: string, maxBytes: number): Promise<string> {
  const file = await open(path, "r").catch(() => undefined);
  if (!file) return "";
  try {
    const { size } = await file.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    return buffer.toString("utf8");
  } finally {
    await file.close();
  }
}
