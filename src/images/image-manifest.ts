// The small JSON file beside every cached rootfs: what the image is, where it came from, and
// the hash that decides whether a build can reuse it.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { AgentisoError } from "../core/errors.js";

export const MANIFEST_FILE = "manifest.json";

export const ImageManifestSchema = z.object({
  formatVersion: z.number().int(),
  name: z.string(),
  /** How the image was made: from a recipe, or imported from a rootfs tarball. */
  source: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("recipe"), recipe: z.string(), parent: z.string().nullable() }),
    z.object({ kind: z.literal("import"), file: z.string() }),
  ]),
  /** Recipe key (recipe builds) or sha256 of the tarball (imports). */
  hash: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  createdAt: z.string(),
  buildMs: z.number().nonnegative(),
  /** Debian packages and versions from the image's dpkg database (empty for non-Debian imports). */
  packages: z.record(z.string(), z.string()),
  /** Upstream version of the image's nodejs package, e.g. "18.20.4"; null when it has none. */
  nodeVersion: z.string().nullable(),
  /** PRETTY_NAME from the image's /etc/os-release, when present. */
  osRelease: z.string().nullable(),
});

export type ImageManifest = z.infer<typeof ImageManifestSchema>;

// Reads <imageDir>/manifest.json; null when the image has none (absent or half-written).
export async function readManifest(imageDir: string): Promise<ImageManifest | null> {
  let text: string;
  try {
    text = await readFile(join(imageDir, MANIFEST_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw err;
  }
  const parsed = ImageManifestSchema.safeParse(safeJson(text));
  return parsed.success ? parsed.data : null;
}

// Writes the manifest after validating it, so a bad manifest never reaches the cache.
export async function writeManifest(imageDir: string, manifest: ImageManifest): Promise<void> {
  const checked = ImageManifestSchema.safeParse(manifest);
  if (!checked.success) throw new AgentisoError("INTERNAL", `invalid image manifest: ${checked.error.message}`);
  await writeFile(join(imageDir, MANIFEST_FILE), JSON.stringify(checked.data, null, 2) + "\n");
}

// Parses a dpkg status file into package -> version for the installed packages.
export function parseDpkgStatus(text: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const stanza of text.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
    const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    const status = /^Status:\s*(.+)$/m.exec(stanza)?.[1] ?? "";
    if (name && version && status.trim().endsWith(" installed")) packages[name] = version;
  }
  return packages;
}

// "18.20.4+dfsg-1~deb12u1" -> "18.20.4": the upstream part of a Debian version.
export function upstreamVersion(debianVersion: string): string {
  const withoutEpoch = debianVersion.replace(/^\d+:/, "");
  return withoutEpoch.replace(/[-+~].*$/, "");
}

// Reads the PRETTY_NAME of an os-release file's text, or null.
export function prettyName(osReleaseText: string): string | null {
  const match = /^PRETTY_NAME=(.*)$/m.exec(osReleaseText);
  return match?.[1] ? match[1].replace(/^["']|["']$/g, "") : null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
