// Single-message file operations: read, write, edit, list, stat, mkdir, remove, move. Binary
// data travels base64; payloads are capped at MAX_INLINE_BYTES (bigger files: transfers).
import { cp, lstat, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile, chmod } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Stats } from "node:fs";
import { MAX_INLINE_BYTES, type FileStat, type RequestOf } from "../protocol/index.js";
import type { HandlerReply, RequestContext } from "./request-context.js";
import { WireError } from "./wire-error.js";

// Reads up to `limit` bytes at `offset`; TOO_LARGE rather than an oversized frame.
export async function handleFileRead(request: RequestOf<"file_read">, ctx: RequestContext): Promise<HandlerReply<"file_read">> {
  const offset = request.offset ?? 0;
  const file = await open(request.path, "r");
  try {
    const { size } = await file.stat();
    const wanted = request.limit ?? Math.max(0, size - offset);
    if (wanted > MAX_INLINE_BYTES) {
      throw new WireError("TOO_LARGE", `read of ${wanted} bytes exceeds ${MAX_INLINE_BYTES}: pass a limit or use file_download`);
    }
    const buffer = Buffer.allocUnsafe(wanted);
    let got = 0;
    while (got < wanted) {
      const { bytesRead } = await file.read(buffer, got, wanted - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { id: ctx.id, type: "file_content", data: buffer.subarray(0, got).toString("base64"), sizeBytes: size, eof: offset + got >= size };
  } finally {
    await file.close();
  }
}

// Writes (or appends) bytes with a mode; parents only with createDirs.
export async function handleFileWrite(request: RequestOf<"file_write">, ctx: RequestContext): Promise<HandlerReply<"file_write">> {
  const data = Buffer.from(request.data, "base64");
  if (data.length > MAX_INLINE_BYTES) throw new WireError("TOO_LARGE", `write of ${data.length} bytes exceeds ${MAX_INLINE_BYTES}: use file_upload`);
  if (request.createDirs) await mkdir(dirname(request.path), { recursive: true });
  await writeFile(request.path, data, { flag: request.append ? "a" : "w", mode: request.mode ?? 0o644 });
  if (request.mode !== undefined) await chmod(request.path, request.mode);
  return { id: ctx.id, type: "done", bytes: data.length };
}

// Replaces oldText, which must occur exactly once; writes via a temp file and rename.
export async function handleFileEdit(request: RequestOf<"file_edit">, ctx: RequestContext): Promise<HandlerReply<"file_edit">> {
  const text = await readFile(request.path, "utf8");
  const at = text.indexOf(request.oldText);
  if (at < 0) throw new WireError("NOT_FOUND", `the text to replace was not found in ${request.path}`);
  if (text.indexOf(request.oldText, at + 1) >= 0) {
    throw new WireError("CONFLICT", `the text to replace occurs more than once in ${request.path}: include more context`);
  }
  const edited = text.slice(0, at) + request.newText + text.slice(at + request.oldText.length);
  const { mode } = await stat(request.path);
  const temp = join(dirname(request.path), `.agentiso-edit-${process.pid}-${ctx.id}`);
  await writeFile(temp, edited, { mode: mode & 0o7777 });
  await rename(temp, request.path);
  return { id: ctx.id, type: "done", bytes: Buffer.byteLength(edited) };
}

// Directory entries sorted by name, described with lstat (symlinks are not followed).
export async function handleFileList(request: RequestOf<"file_list">, ctx: RequestContext): Promise<HandlerReply<"file_list">> {
  const names = (await readdir(request.path)).sort();
  const entries = [];
  for (const name of names) {
    const info = await lstat(join(request.path, name)).catch(() => undefined);
    if (info) entries.push({ name, ...describeStat(info) });
  }
  return { id: ctx.id, type: "file_entries", entries };
}

// Stat of a path, following symlinks.
export async function handleFileStat(request: RequestOf<"file_stat">, ctx: RequestContext): Promise<HandlerReply<"file_stat">> {
  return { id: ctx.id, type: "stat", stat: describeStat(await stat(request.path)) };
}

// Creates a directory, with parents unless recursive is false.
export async function handleFileMkdir(request: RequestOf<"file_mkdir">, _ctx: RequestContext): Promise<HandlerReply<"file_mkdir">> {
  await mkdir(request.path, { recursive: request.recursive ?? true, mode: request.mode ?? 0o755 });
  return undefined;
}

// Removes a file, or a directory (non-empty only with recursive: otherwise CONFLICT).
export async function handleFileRemove(request: RequestOf<"file_remove">, _ctx: RequestContext): Promise<HandlerReply<"file_remove">> {
  const info = await lstat(request.path);
  if (!info.isDirectory()) await unlink(request.path);
  else if (request.recursive) await rm(request.path, { recursive: true });
  else await rmdir(request.path);
  return undefined;
}

// Renames from to to (the symlink itself, never its target). An existing `to` is ALREADY_EXISTS
// unless overwrite; across filesystems (EXDEV: /tmp is often its own) it is copied, then removed.
export async function handleFileMove(request: RequestOf<"file_move">, _ctx: RequestContext): Promise<HandlerReply<"file_move">> {
  await lstat(request.from);
  if (!request.overwrite && (await exists(request.to))) throw new WireError("ALREADY_EXISTS", `${request.to} exists: pass overwrite to replace it`);
  try {
    await rename(request.from, request.to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    if (request.overwrite) await rm(request.to, { recursive: true, force: true });
    await cp(request.from, request.to, { recursive: true, errorOnExist: true, force: false, preserveTimestamps: true });
    await rm(request.from, { recursive: true });
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? false : Promise.reject(err)),
  );
}

// The wire form of a Stats: kind, size, permission bits, mtime.
export function describeStat(info: Stats): FileStat {
  const kind = info.isFile() ? "file" : info.isDirectory() ? "directory" : info.isSymbolicLink() ? "symlink" : "other";
  return { kind, sizeBytes: info.size, mode: info.mode & 0o7777, mtimeMs: info.mtimeMs };
}
