// A workspace file copied to a host file under a size cap: streamed to disk (never whole in
// memory), counted as it comes, refused with TOO_LARGE past the cap, and visible only once
// complete. The workspace chooses what the file is — a 100 TiB sparse file, a link to
// /dev/zero — so its agent's stat is only a shortcut; the count is what holds.
import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CappedBytes, tooLarge, type ByteCap } from "../core/capped-bytes.js";
import type { GuestClient } from "../guest/guest-client.js";

// Copies guestPath to hostPath; returns the bytes written. On any failure hostPath is untouched.
export async function downloadCapped(guest: GuestClient, guestPath: string, hostPath: string, options: { maxBytes: number; signal?: AbortSignal }): Promise<number> {
  const cap: ByteCap = { what: `the workspace file ${guestPath}`, maxBytes: options.maxBytes, setting: "[caps] transferBytes" };
  const call = options.signal ? { signal: options.signal } : {};
  const stat = await guest.stat(guestPath, call);
  if (stat.sizeBytes > cap.maxBytes) throw tooLarge(cap, stat.sizeBytes);
  const counted = new CappedBytes({ ...cap, keep: "none" });
  const partial = join(dirname(hostPath), `.${basename(hostPath)}.agentiso-partial-${randomBytes(4).toString("hex")}`);
  const file = await open(partial, "wx", 0o600);
  try {
    // one byte past the cap is enough to know: an honest agent stops there
    for await (const chunk of guest.download(guestPath, { limit: cap.maxBytes + 1 }, call)) {
      counted.push(chunk);
      await file.write(chunk);
    }
    await file.close();
    await rename(partial, hostPath);
    return counted.totalBytes;
  } catch (err) {
    await file.close().catch(() => {});
    await unlink(partial).catch(() => {});
    throw err;
  }
}
