// The one resolver of host paths named by callers. The host's root (CLI, control API) may name
// any absolute path; an MCP session only paths inside its own transfer directory
// (<transferDir>/<hash of the session>/), resolved with every symlink followed and the result
// checked to stay inside. Reads are bounded for everyone: a regular file, at most maxBytes, so
// /dev/zero, a FIFO or a sparse 100 TiB file cannot stall or balloon the daemon.
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { AgentisoError } from "./errors.js";

export interface HostPaths {
  /** The directory every path must stay in; undefined for the host's root (any absolute path). */
  readonly root: string | undefined;
  /** An absolute real path for `path` (relative paths are taken against root); refuses escapes. */
  resolve(path: string, options?: { forWriting?: boolean; what?: string }): Promise<string>;
  /** The bytes of a regular file, at most maxBytes; refuses devices, FIFOs, directories and escapes. */
  readFile(path: string, options: { maxBytes: number; what: string }): Promise<Buffer>;
}

// The transfer directory of one MCP session: a fixed name derived from the session, so two
// sessions never share one and a session id cannot name a path (no `..`, no `/`).
export function sessionTransferDir(transferDir: string, session: string): string {
  return join(transferDir, createHash("sha256").update(session).digest("hex").slice(0, 16));
}

// The host's root: absolute paths anywhere; reads still bounded.
export function trustedHostPaths(): HostPaths {
  return {
    root: undefined,
    async resolve(path, options = {}) {
      if (!isAbsolute(path)) throw new AgentisoError("INVALID_INPUT", `${options.what ?? "host path"} ${JSON.stringify(path)} must be absolute`);
      return resolve(path);
    },
    async readFile(path, options) {
      if (!isAbsolute(path)) throw new AgentisoError("INVALID_INPUT", `${options.what} ${JSON.stringify(path)} must be absolute`);
      return readBoundedFile(path, { ...options, noFollow: false });
    },
  };
}

// Paths confined to root (created 0700 when missing): relative ones below it, absolute ones only
// when they lie inside it; `..` is refused and symlinks may not lead out.
export function confinedHostPaths(root: string): HostPaths {
  const paths: HostPaths = {
    root,
    async resolve(path, options = {}) {
      const what = options.what ?? "hostPath";
      await mkdir(root, { recursive: true, mode: 0o700 });
      const realRoot = await realpath(root);
      const inside = isAbsolute(path) ? insideOf(path, [root, realRoot]) : path;
      if (inside === undefined) {
        throw new AgentisoError("PERMISSION_DENIED", `${what} ${JSON.stringify(path)} is outside the transfer directory ${root}: name a path inside it`);
      }
      if (inside.split(/[\\/]/).includes("..")) throw new AgentisoError("PERMISSION_DENIED", `${what} ${JSON.stringify(path)} must stay inside the transfer directory: no ..`);
      const target = resolve(realRoot, inside);
      let existing = target;
      while (!(await exists(existing))) existing = dirname(existing);
      const real = join(await realpath(existing), relative(existing, target));
      if (real !== realRoot && !real.startsWith(realRoot + sep)) {
        throw new AgentisoError("PERMISSION_DENIED", `${what} ${JSON.stringify(path)} leaves the transfer directory ${root} (through a symlink)`);
      }
      if (!options.forWriting && existing !== target) throw new AgentisoError("NOT_FOUND", `no ${what} ${JSON.stringify(path)} in the transfer directory ${root}`);
      return real;
    },
    async readFile(path, options) {
      return readBoundedFile(await paths.resolve(path, { what: options.what }), { ...options, noFollow: true });
    },
  };
  return paths;
}

// path relative to the first of roots it lies in (possibly ""), or undefined when in none.
function insideOf(path: string, roots: string[]): string | undefined {
  for (const root of roots) {
    const rel = relative(root, resolve(path));
    if (rel === "" || (!rel.startsWith(".." + sep) && rel !== ".." && !isAbsolute(rel))) return rel;
  }
  return undefined;
}

// Reads a whole regular file of at most maxBytes. Opened non-blocking (a FIFO cannot stall the
// open), checked on the open descriptor (no swap between check and read), and read no further
// than maxBytes + 1 (files under /proc report size 0, and files grow).
export async function readBoundedFile(path: string, options: { maxBytes: number; what: string; noFollow: boolean }): Promise<Buffer> {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (options.noFollow ? constants.O_NOFOLLOW : 0);
  let handle;
  try {
    handle = await open(path, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new AgentisoError("NOT_FOUND", `cannot read ${options.what} ${path}: no such file`, { cause: err });
    if (code === "ELOOP") throw new AgentisoError("PERMISSION_DENIED", `${options.what} ${path} is a symlink: name the file itself`, { cause: err });
    throw new AgentisoError("INVALID_INPUT", `cannot read ${options.what} ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new AgentisoError("INVALID_INPUT", `${options.what} ${path} is not a regular file (a device, FIFO, socket or directory): refused`);
    if (stat.size > options.maxBytes) throw new AgentisoError("INVALID_INPUT", `${options.what} ${path} is ${stat.size} bytes, over the ${options.maxBytes}-byte limit`);
    let buffer = Buffer.alloc(Math.min(stat.size, options.maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > options.maxBytes) throw new AgentisoError("INVALID_INPUT", `${options.what} ${path} is over the ${options.maxBytes}-byte limit`);
        buffer = Buffer.concat([buffer, Buffer.alloc(Math.min(buffer.length, options.maxBytes + 1 - buffer.length))]);
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) return buffer.subarray(0, length);
      length += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
