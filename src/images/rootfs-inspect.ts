// Describes a finished rootfs for its manifest: size, Debian packages, node version, OS name.
// The rootfs may come from an untrusted tarball, so files are read only when their real path
// stays inside the rootfs (an absolute symlink must not make us read the host's files).
import { readFile, realpath, lstat } from "node:fs/promises";
import { join, sep } from "node:path";
import { runCommand } from "../core/run-command.js";
import { parseDpkgStatus, prettyName, upstreamVersion } from "./image-manifest.js";

export interface RootfsFacts {
  sizeBytes: number;
  packages: Record<string, string>;
  nodeVersion: string | null;
  osRelease: string | null;
}

// Reads what the manifest records about the rootfs at `rootfsDir`.
export async function inspectRootfs(rootfsDir: string, signal?: AbortSignal): Promise<RootfsFacts> {
  const du = await runCommand(["du", "-sb", rootfsDir], { timeoutMs: 120_000, signal });
  const sizeBytes = Number.parseInt(du.stdout.split(/\s/)[0] ?? "0", 10);
  const status = await readInside(rootfsDir, "var/lib/dpkg/status");
  const packages = status === null ? {} : parseDpkgStatus(status);
  const osText = (await readInside(rootfsDir, "usr/lib/os-release")) ?? (await readInside(rootfsDir, "etc/os-release"));
  const nodejs = packages["nodejs"];
  return {
    sizeBytes,
    packages,
    nodeVersion: nodejs ? upstreamVersion(nodejs) : null,
    osRelease: osText === null ? null : prettyName(osText),
  };
}

// Text of rootfs/relative when it is a regular file whose real path is inside rootfs; else null.
async function readInside(rootfsDir: string, relative: string): Promise<string | null> {
  try {
    const root = await realpath(rootfsDir);
    const real = await realpath(join(rootfsDir, relative));
    if (!real.startsWith(root + sep)) return null;
    if (!(await lstat(real)).isFile()) return null;
    return await readFile(real, "utf8");
  } catch {
    return null;
  }
}
