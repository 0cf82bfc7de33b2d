// Rootfs tarballs in and out of the image cache. GNU tar detects the compression of what it
// reads (gzip, xz, bzip2, zstd), so one extract call serves .tar, .tar.gz and .tar.zst.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { AgentisoError, isAgentisoError } from "../core/errors.js";
import { runCommand } from "../core/run-command.js";

// sha256 of a file's bytes, streamed (tarballs can be large).
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

// Extracts a rootfs tarball into targetDir (created), keeping numeric owners and modes.
// Device nodes are skipped: runtimes provide /dev, and an imported image stays device-less.
export async function extractTarball(file: string, targetDir: string, signal?: AbortSignal): Promise<void> {
  await mkdir(targetDir, { recursive: true });
  const argv = ["tar", "-x", "-f", file, "-C", targetDir, "--numeric-owner", "--same-owner", "-p", "--xattrs", "--anchored", "--exclude=./dev/*", "--exclude=dev/*"];
  try {
    await runCommand(argv, { signal, timeoutMs: 600_000 });
  } catch (err) {
    if (isAgentisoError(err, "BACKEND_FAILED")) {
      throw new AgentisoError("INVALID_INPUT", `${file} is not a readable rootfs tarball (.tar, .tar.gz, .tar.xz or .tar.zst): ${err.message}`, { cause: err });
    }
    throw err;
  }
}

// Packs a rootfs directory into a zstd tarball (for export, or a VM disk builder).
export async function packTarball(rootfsDir: string, file: string, signal?: AbortSignal): Promise<void> {
  await runCommand(["tar", "--zstd", "-c", "-f", file, "-C", rootfsDir, "--numeric-owner", "--xattrs", "."], { signal, timeoutMs: 600_000 });
}
