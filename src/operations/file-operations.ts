// Files in a workspace: read, write, edit (exact replace), list, stat, mkdir, delete, move, and
// transfer between the workspace and the host. Workspace paths are resolved by the agent inside
// the workspace (its own root), so no path reaches the host. The host side of a transfer is confined to the transfer directory
// (an MCP session: its own subdirectory of it) by host-access.ts: `..` and symlinks cannot leave it.
// Downloads are written under the operator's cap (capped-download.ts).
import { createReadStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, posix } from "node:path";
import { AgentisoError } from "../core/errors.js";
import { CAP_DEFAULTS } from "../config/config.js";
import { MAX_INLINE_BYTES } from "../protocol/version.js";
import { defineOperation } from "./operation.js";
import { guestFor } from "./guest-for.js";
import { transferPathsFor } from "./host-access.js";
import { downloadCapped } from "./capped-download.js";
import { contracts } from "../contract/registry.js";

export const fileRead = defineOperation(contracts.fileRead, {
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    const range = { ...(input.offset !== undefined && { offset: input.offset }), limit: input.limit ?? MAX_INLINE_BYTES };
    const read = await guest.readFile(input.path, range, { signal: ctx.signal });
    return { path: input.path, content: read.data.toString(input.encoding), encoding: input.encoding, sizeBytes: read.sizeBytes, eof: read.eof };
  },
});

export const fileWrite = defineOperation(contracts.fileWrite, {
  run: async (ctx, input) => {
    const data = Buffer.from(input.content, input.encoding);
    if (data.length > MAX_INLINE_BYTES) throw new AgentisoError("INVALID_INPUT", `content is ${data.length} bytes: at most ${MAX_INLINE_BYTES} per call (use file_transfer)`);
    const { guest } = await guestFor(ctx, input.workspace);
    const how = { createDirs: true, ...(input.mode !== undefined && { mode: input.mode }), ...(input.append !== undefined && { append: input.append }) };
    const bytes = await guest.writeFile(input.path, data, how, { signal: ctx.signal });
    return { path: input.path, bytesWritten: bytes };
  },
});

export const fileEdit = defineOperation(contracts.fileEdit, {
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    await guest.editFile(input.path, input.oldText, input.newText, { signal: ctx.signal });
    return { path: input.path, edited: true as const };
  },
});

export const fileList = defineOperation(contracts.fileList, {
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    return { path: input.path, entries: await guest.listDir(input.path, { signal: ctx.signal }) };
  },
});

export const fileTransfer = defineOperation(contracts.fileTransfer, {
  run: async (ctx, input) => {
    const hostPath = await transferPathsFor(ctx).resolve(input.hostPath, { forWriting: input.direction === "download" });
    const { guest } = await guestFor(ctx, input.workspace);
    if (input.direction === "upload") {
      const bytes = await guest.upload(input.workspacePath, createReadStream(hostPath), {}, { signal: ctx.signal });
      return { direction: "upload" as const, bytes, hostPath: input.hostPath, workspacePath: input.workspacePath };
    }
    await mkdir(dirname(hostPath), { recursive: true });
    const maxBytes = (ctx.services.caps ?? CAP_DEFAULTS).transferBytes;
    const bytes = await downloadCapped(guest, input.workspacePath, hostPath, { maxBytes, signal: ctx.signal });
    return { direction: "download" as const, bytes, hostPath: input.hostPath, workspacePath: input.workspacePath };
  },
});

export const fileStat = defineOperation(contracts.fileStat, {
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    return { path: input.path, ...(await guest.stat(input.path, { signal: ctx.signal })) };
  },
});

export const fileMkdir = defineOperation(contracts.fileMkdir, {
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    await guest.mkdir(input.path, { recursive: input.recursive, ...(input.mode !== undefined && { mode: input.mode }) }, { signal: ctx.signal });
    return { path: input.path, created: true as const };
  },
});

export const fileDelete = defineOperation(contracts.fileDelete, {
  run: async (ctx, input) => {
    if (posix.normalize(input.path) === "/") throw new AgentisoError("INVALID_INPUT", "file_delete will not delete / (the whole workspace): destroy the workspace instead");
    const { guest } = await guestFor(ctx, input.workspace);
    await guest.remove(input.path, { recursive: input.recursive }, { signal: ctx.signal });
    return { path: input.path, deleted: true as const };
  },
});

export const fileMove = defineOperation(contracts.fileMove, {
  run: async (ctx, input) => {
    if (posix.normalize(input.from) === "/") throw new AgentisoError("INVALID_INPUT", "file_move cannot move / (the whole workspace)");
    const { guest } = await guestFor(ctx, input.workspace);
    await guest.move(input.from, input.to, { overwrite: input.overwrite }, { signal: ctx.signal });
    return { from: input.from, to: input.to };
  },
});
