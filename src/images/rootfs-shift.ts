// Materialises an image as a rootfs directory for the container runtime. runc 1.1.5 ignores
// idmapped mounts, so a user-namespaced container (root inside = 100000 outside) needs its
// files chowned by the offset once per image; the storage layer then snapshots the result.
import { chmod, lchown, lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import { runCommand } from "../core/run-command.js";

const MAX_ID = 0xfffffffe; // (uid_t)-1 means "no change" to chown

export interface MaterializeOptions {
  /** Added to every uid and gid; 0 (the default) copies without shifting. */
  idShift?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}

// Copies sourceDir's contents into targetDir (created; must be empty) and shifts ownership.
export async function materializeRootfs(sourceDir: string, targetDir: string, options: MaterializeOptions = {}): Promise<{ inodes: number }> {
  const idShift = checkShift(options.idShift ?? 0);
  await mkdir(targetDir, { recursive: true });
  if ((await readdir(targetDir)).length > 0) {
    throw new AgentisoError("CONFLICT", `cannot materialise a rootfs into ${targetDir}: the directory is not empty`);
  }
  // cp -a keeps hardlinks, xattrs, modes and owners; reflink makes it O(metadata) on btrfs.
  await runCommand(["cp", "-a", "--reflink=auto", "--", `${sourceDir}/.`, targetDir], {
    timeoutMs: options.timeoutMs ?? 600_000,
    signal: options.signal,
  });
  return idShift === 0 ? { inodes: 0 } : shiftOwnership(targetDir, idShift);
}

// Adds idShift to the uid and gid of every inode under root (root included), once per inode.
// chown clears setuid/setgid bits, so those modes are re-applied; symlinks use lchown.
export async function shiftOwnership(root: string, idShift: number): Promise<{ inodes: number }> {
  checkShift(idShift);
  const seen = new Set<string>();
  let inodes = 0;
  const visit = async (path: string): Promise<boolean> => {
    const st = await lstat(path);
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1 && !st.isDirectory()) {
      if (seen.has(key)) return false;
      seen.add(key);
    }
    const uid = st.uid + idShift;
    const gid = st.gid + idShift;
    if (uid > MAX_ID || gid > MAX_ID) {
      throw new AgentisoError("INVALID_INPUT", `cannot shift ${path} (uid ${st.uid}, gid ${st.gid}) by ${idShift}: the result exceeds the uid range`);
    }
    await lchown(path, uid, gid);
    if (!st.isSymbolicLink() && (st.mode & 0o6000) !== 0) await chmod(path, st.mode & 0o7777);
    inodes += 1;
    return st.isDirectory();
  };
  await visit(root);
  const dirs = [root];
  for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
    const entries = await readdir(dir);
    const children = entries.map((name) => join(dir, name));
    const isDir = await Promise.all(children.map(visit));
    children.forEach((child, i) => {
      if (isDir[i]) dirs.push(child);
    });
  }
  return { inodes };
}

function checkShift(idShift: number): number {
  if (!Number.isInteger(idShift) || idShift < 0 || idShift > MAX_ID) {
    throw new AgentisoError("INVALID_INPUT", `uid/gid shift must be an integer from 0 to ${MAX_ID}, got ${idShift}`);
  }
  return idShift;
}
