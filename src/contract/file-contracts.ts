// Files in a workspace: read, write, edit (exact replace), list, stat, mkdir, delete, move,
// and transfer to or from the host's transfer directory. Every path is the workspace's own: the
// agent resolves it inside the workspace, so `..` cannot reach the host.
import { z } from "zod";
import { MAX_INLINE_BYTES } from "../protocol/version.js";
import { defineContract } from "./contract.js";
import { WorkspaceRef } from "./common-schemas.js";
import { DirEntrySchema, FileStatSchema } from "./result-schemas.js";

const GuestPath = z.string().min(1).max(4096).describe("Absolute path inside the workspace, e.g. /workspace/src/main.ts");
const AbsoluteGuestPath = GuestPath.regex(/^\//, "give an absolute path (starting with /)").describe("Absolute path inside the workspace");
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

export const fileStat = defineContract({
  name: "file_stat",
  title: "Describe a path",
  description: "Kind (file, directory, symlink, other), size, permission bits and modification time of a path in a workspace (symlinks are followed). NOT_FOUND when it does not exist.",
  category: "other",
  hints: { readOnly: true, idempotent: true },
  input: z.object({ workspace: WorkspaceRef, path: GuestPath }).strict(),
  output: FileStatSchema.extend({ path: z.string() }),
});

export const fileMkdir = defineContract({
  name: "file_mkdir",
  title: "Create a directory",
  description: "Create a directory in a workspace, with its missing parents unless recursive is false (then an existing directory is a CONFLICT).",
  category: "other",
  hints: { idempotent: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      path: GuestPath,
      recursive: z.boolean().default(true).describe("Create missing parents and accept an existing directory (mkdir -p); default true"),
      mode: z.number().int().min(0).max(0o7777).optional().describe("Directory mode, e.g. 493 (0755, the default)"),
    })
    .strict(),
  output: z.object({ path: z.string(), created: z.literal(true) }),
});

export const fileDelete = defineContract({
  name: "file_delete",
  title: "Delete a file or directory",
  description: "Delete a file, symlink or directory in a workspace. A non-empty directory needs recursive: true (else CONFLICT). The path must be absolute; / itself is refused.",
  category: "other",
  hints: { destructive: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      path: AbsoluteGuestPath,
      recursive: z.boolean().default(false).describe("Delete a directory with everything in it"),
    })
    .strict(),
  output: z.object({ path: z.string(), deleted: z.literal(true) }),
});

export const fileMove = defineContract({
  name: "file_move",
  title: "Move or rename a path",
  description: "Move or rename a file, directory or symlink inside a workspace. An existing destination is a CONFLICT unless overwrite is true; the destination's parent directory must exist.",
  category: "other",
  hints: { destructive: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      from: AbsoluteGuestPath.describe("Absolute path to move, e.g. /workspace/old.ts"),
      to: AbsoluteGuestPath.describe("Absolute new path, e.g. /workspace/src/new.ts"),
      overwrite: z.boolean().default(false).describe("Replace an existing destination"),
    })
    .strict(),
  output: z.object({ from: z.string(), to: z.string() }),
});
