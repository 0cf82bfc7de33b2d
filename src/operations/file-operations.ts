// Files in a workspace: read, write, edit (exact replace), list, and transfer between the
// workspace and the host. The host side of a transfer is confined to the transfer directory
// (an MCP session: its own subdirectory of it) by host-access.ts: `..` and symlinks cannot leave it.
// Downloads are written under the operator's cap (capped-download.ts).
import { createReadStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";
import { CAP_DEFAULTS } from "../config/config.js";
import { MAX_INLINE_BYTES } from "../protocol/version.js";
import { defineOperation } from "./operation.js";
import { guestFor } from "./guest-for.js";
import { WorkspaceRef } from "./common-schemas.js";
import { transferPathsFor } from "./host-access.js";
import { downloadCapped } from "./capped-download.js";

const GuestPath = z.string().min(1).max(4096).describe("Absolute path inside the workspace, e.g. /workspace/src/main.ts");
const Encoding = z.enum(["utf8", "base64"]).default("utf8").describe("utf8 for text, base64 for binary");

export const fileRead = defineOperation({
  name: "file_read",
  description: `Read a file (or a byte range of it) from a workspace; at most ${MAX_INLINE_BYTES} bytes per call.`,
  category: "other",
  input: z
    .object({
      workspace: WorkspaceRef,
      path: GuestPath,
      offset: z.number().int().min(0).optional().describe("First byte to read"),
      limit: z.number().int().min(1).max(MAX_INLINE_BYTES).optional().describe("Bytes to read"),
      encoding: Encoding,
    })
    .strict(),
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    const range = { ...(input.offset !== undefined && { offset: input.offset }), limit: input.limit ?? MAX_INLINE_BYTES };
    const read = await guest.readFile(input.path, range, { signal: ctx.signal });
    return { path: input.path, content: read.data.toString(input.encoding), encoding: input.encoding, sizeBytes: read.sizeBytes, eof: read.eof };
  },
});

export const fileWrite = defineOperation({
  name: "file_write",
  description: `Write (or append to) a file in a workspace, creating parent directories; content at most ${MAX_INLINE_BYTES} bytes.`,
  category: "other",
  input: z
    .object({
      workspace: WorkspaceRef,
      path: GuestPath,
      content: z
        .string()
        .max(Math.ceil((MAX_INLINE_BYTES * 4) / 3) + 4, `content is too large: at most ${MAX_INLINE_BYTES} bytes per call (use file_transfer)`)
        .describe("The file's content: text, or base64 when encoding is base64"),
      encoding: Encoding,
      mode: z.number().int().min(0).max(0o7777).optional().describe("File mode, e.g. 420 (0644) or 493 (0755)"),
      append: z.boolean().optional().describe("Append instead of replacing"),
    })
    .strict(),
  run: async (ctx, input) => {
    const data = Buffer.from(input.content, input.encoding);
    if (data.length > MAX_INLINE_BYTES) throw new AgentisoError("INVALID_INPUT", `content is ${data.length} bytes: at most ${MAX_INLINE_BYTES} per call (use file_transfer)`);
    const { guest } = await guestFor(ctx, input.workspace);
    const how = { createDirs: true, ...(input.mode !== undefined && { mode: input.mode }), ...(input.append !== undefined && { append: input.append }) };
    const bytes = await guest.writeFile(input.path, data, how, { signal: ctx.signal });
    return { path: input.path, bytesWritten: bytes };
  },
});

export const fileEdit = defineOperation({
  name: "file_edit",
  description: "Replace one exact occurrence of oldText with newText in a file. Fails if oldText is missing or occurs more than once (add context to make it unique).",
  category: "other",
  input: z
    .object({
      workspace: WorkspaceRef,
      path: GuestPath,
      oldText: z.string().min(1).max(MAX_INLINE_BYTES).describe("Exact text to replace (must occur exactly once)"),
      newText: z.string().max(MAX_INLINE_BYTES).describe("Replacement text"),
    })
    .strict(),
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    await guest.editFile(input.path, input.oldText, input.newText, { signal: ctx.signal });
    return { path: input.path, edited: true };
  },
});

export const fileList = defineOperation({
  name: "file_list",
  description: "List a directory in a workspace (name, type, size, mode).",
  category: "other",
  input: z.object({ workspace: WorkspaceRef, path: GuestPath }).strict(),
  run: async (ctx, input) => {
    const { guest } = await guestFor(ctx, input.workspace);
    return { path: input.path, entries: await guest.listDir(input.path, { signal: ctx.signal }) };
  },
});

export const fileTransfer = defineOperation({
  name: "file_transfer",
  description: "Copy a file between the host's transfer directory and a workspace (streamed; downloads up to the operator's cap, TOO_LARGE past it). hostPath is relative to the transfer directory.",
  category: "other",
  input: z
    .object({
      workspace: WorkspaceRef,
      direction: z.enum(["upload", "download"]).describe("upload: host → workspace; download: workspace → host"),
      hostPath: z.string().min(1).max(4096).describe("Path relative to the host transfer directory"),
      workspacePath: GuestPath,
    })
    .strict(),
  run: async (ctx, input) => {
    const hostPath = await transferPathsFor(ctx).resolve(input.hostPath, { forWriting: input.direction === "download" });
    const { guest } = await guestFor(ctx, input.workspace);
    if (input.direction === "upload") {
      const bytes = await guest.upload(input.workspacePath, createReadStream(hostPath), {}, { signal: ctx.signal });
      return { direction: "upload", bytes, hostPath: input.hostPath, workspacePath: input.workspacePath };
    }
    await mkdir(dirname(hostPath), { recursive: true });
    const maxBytes = (ctx.services.caps ?? CAP_DEFAULTS).transferBytes;
    const bytes = await downloadCapped(guest, input.workspacePath, hostPath, { maxBytes, signal: ctx.signal });
    return { direction: "download", bytes, hostPath: input.hostPath, workspacePath: input.workspacePath };
  },
});
