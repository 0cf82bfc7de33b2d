// The guest kernel: Debian's cloud kernel package, downloaded with apt (never installed into
// /boot), unpacked in scratch, its vmlinuz decompressed to vmlinux and the virtio modules
// copied out. Cached per package version under <cacheDir>/vm-kernel/<version>/.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { runCommand } from "../../core/run-command.js";
import { selectModules } from "./kernel-modules.js";
import { extractVmlinux } from "./vmlinux-extract.js";

export const KERNEL_META_PACKAGE = "linux-image-cloud-amd64";
const APT_LISTS_DIR = "/var/lib/apt/lists";
const APT_TIMEOUT_MS = 300_000;

export interface GuestKernel {
  /** Directory holding vmlinux, modules/ and kernel.json. */
  dir: string;
  vmlinuxPath: string;
  /** `uname -r` inside the guest, e.g. 6.1.0-56-cloud-amd64. */
  release: string;
  packageVersion: string;
  /** Module file names under dir/modules, in load order. */
  modules: string[];
}

interface KernelPackage {
  name: string;
  version: string;
}

// Returns the cached kernel for the current candidate package, fetching it on a miss.
// The caller holds the build lock.
export async function ensureGuestKernel(cacheDir: string, logger: Logger, signal?: AbortSignal): Promise<GuestKernel> {
  const pkg = await resolveKernelPackage(join(cacheDir, "vm-kernel"), signal);
  const dir = join(cacheDir, "vm-kernel", pkg.version);
  const cached = await readKernel(dir);
  if (cached) return cached;
  const started = Date.now();
  await mkdir(join(cacheDir, "vm-kernel"), { recursive: true });
  await removeStaleBuilds(join(cacheDir, "vm-kernel"));
  const scratch = await mkdtemp(join(cacheDir, "vm-kernel", ".build-"));
  try {
    await fetchKernel(pkg, scratch, signal);
    await rm(dir, { recursive: true, force: true });
    await rename(join(scratch, "out"), dir);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const kernel = (await readKernel(dir))!;
  logger.info("guest kernel fetched", { package: pkg.name, version: pkg.version, modules: kernel.modules.length, durationMs: Date.now() - started });
  return kernel;
}

// apt-cache takes ~0.5 s, so the answer is remembered until the apt lists change (apt-get update).
async function resolveKernelPackage(kernelCacheDir: string, signal?: AbortSignal): Promise<KernelPackage> {
  const listsMtimeMs = await stat(APT_LISTS_DIR).then((s) => s.mtimeMs, () => 0);
  const recordPath = join(kernelCacheDir, "resolved.json");
  const record = await readFile(recordPath, "utf8").then((text) => JSON.parse(text) as KernelPackage & { listsMtimeMs: number }, () => undefined);
  if (record && record.listsMtimeMs === listsMtimeMs) return { name: record.name, version: record.version };
  const { stdout } = await runCommand(["apt-cache", "show", "--no-all-versions", KERNEL_META_PACKAGE], { timeoutMs: APT_TIMEOUT_MS, signal, check: false });
  const match = /^Depends:.*?\b(linux-image-[^\s,(]+)\s*\(=\s*([^)\s]+)\)/m.exec(stdout);
  // Without apt lists (a cleaned image, no network), keep using the kernel resolved last time.
  if (!match && record) return { name: record.name, version: record.version };
  if (!match) {
    throw new AgentisoError("BACKEND_FAILED", `cannot resolve the guest kernel: apt knows no ${KERNEL_META_PACKAGE} (run \`apt-get update\`)`);
  }
  const pkg = { name: match[1]!, version: match[2]! };
  await mkdir(kernelCacheDir, { recursive: true });
  await writeFile(recordPath, JSON.stringify({ ...pkg, listsMtimeMs }));
  return pkg;
}

async function fetchKernel(pkg: KernelPackage, scratch: string, signal?: AbortSignal): Promise<void> {
  const options = { timeoutMs: APT_TIMEOUT_MS, signal, cwd: scratch };
  await runCommand(["apt-get", "download", "-q", `${pkg.name}=${pkg.version}`], options);
  const deb = `${pkg.name}_${pkg.version.replace(/^\d+:/, "")}_amd64.deb`;
  await runCommand(["dpkg-deb", "-x", deb, "root"], options);
  const release = pkg.name.replace(/^linux-image-/, "");
  const out = join(scratch, "out");
  await mkdir(join(out, "modules"), { recursive: true });
  await extractVmlinux(join(scratch, "root/boot", `vmlinuz-${release}`), join(out, "vmlinux"), signal);
  const moduleRoot = join(scratch, "root/lib/modules", release);
  const modules = await selectModules(moduleRoot);
  for (const module of modules) await copyFile(join(moduleRoot, module.path), join(out, "modules", `${module.name}.ko`));
  const manifest = { release, packageName: pkg.name, packageVersion: pkg.version, modules: modules.map((m) => `${m.name}.ko`) };
  await writeFile(join(out, "kernel.json"), JSON.stringify(manifest, null, 2) + "\n");
}

async function readKernel(dir: string): Promise<GuestKernel | undefined> {
  const text = await readFile(join(dir, "kernel.json"), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const manifest = JSON.parse(text) as { release: string; packageVersion: string; modules: string[] };
  return { dir, vmlinuxPath: join(dir, "vmlinux"), release: manifest.release, packageVersion: manifest.packageVersion, modules: manifest.modules };
}

// Scratch dirs left by a build that crashed; only the lock holder builds, so none is live.
export async function removeStaleBuilds(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => name.startsWith(".build-")).map((name) => rm(join(dir, name), { recursive: true, force: true })));
}
