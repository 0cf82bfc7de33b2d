// Files in a workspace: read, write, edit (exact replace), list, and transfer to or from the
// host's transfer directory.
import { z } from "zod";
import { MAX_INLINE_BYTES } from "../protocol/version.js";
import { defineContract } from "./contract.js";
import { WorkspaceRef } from "./common-schemas.js";
import { DirEntrySchema } from "./result-schemas.js";

const GuestPath = z.string().min(1).max(4096).describe("Absolute path inside the workspace, e.g. /workspace/src/main.ts");
const Encoding = z.enum(["utf8", "base64"]).default("utf8").describe("utf8 for text, base64 for binary");

export const fileRead = defineContract({
  name: "file_read",
  title: "Read a file",
  description: `Read a file (or a byte range of it) from a workspace; at most ${MAX_INLINE_BYTES} bytes per call.`,
  category: "other",
  hints: { readOnly: true, idempotent: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      path: GuestPath,
      offset: z.number().int().min(0).optional().describe("First byte to read"),
      limit: z.number().int().min(1).max(MAX_INLINE_BYTES).optional().describe("Bytes to read"),
      encoding: Encoding,
    })
    .strict(),
  output: z.object({ path: z.string(), content: z.string(), encoding: z.enum(["utf8", "base64"]), sizeBytes: z.number().describe("Size of the whole file"), eof: z.boolean() }),
});

export const fileWrite = defineContract({
  name: "file_write",
  title: "Write a file",
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
  output: z.object({ path: z.string(), bytesWritten: z.number() }),
});

export const fileEdit = defineContract({
  name: "file_edit",
  title: "Edit a file",
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
  output: z.object({ path: z.string(), edited: z.literal(true) }),
});

export const fileList = defineContract({
  name: "file_list",
  title: "List a directory",
  description: "List a directory in a workspace (name, type, size, mode).",
  category: "other",
  hints: { readOnly: true, idempotent: true },
  input: z.object({ workspace: WorkspaceRef, path: GuestPath }).strict(),
  output: z.object({ path: z.string(), entries: z.array(DirEntrySchema) }),
});

export const fileTransfer = defineContract({
  name: "file_transfer",
  title: "Copy a file to or from the host",
  description:
    "Copy a file between the host's transfer directory and a workspace (streamed; downloads up to the operator's cap, TOO_LARGE past it). hostPath is relative to the transfer directory.",
  category: "other",
  hints: { idempotent: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      direction: z.enum(["upload", "download"]).describe("upload: host → workspace; download: workspace → host"),
      hostPath: z.string().min(1).max(4096).describe("Path relative to the host transfer directory"),
      workspacePath: GuestPath,
    })
    .strict(),
  output: z.object({ direction: z.enum(["upload", "download"]), bytes: z.number(), hostPath: z.string(), workspacePath: z.string() }),
});
