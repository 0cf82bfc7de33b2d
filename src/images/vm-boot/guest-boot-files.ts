// The kernel and initramfs every microVM workspace boots from, built once per input set and
// cached by content hash: <cacheDir>/vm-boot/<hash>/{vmlinux,initrd.img}. Concurrent callers,
// in this process or others, share one build (a file lock plus an in-process promise).
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AgentisoError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { acquireFileLock } from "../file-lock.js";
import { ensureGuestKernel, removeStaleBuilds, type GuestKernel } from "./guest-kernel.js";
import { buildInitramfs, type InitrdCompression } from "./initramfs.js";

export interface GuestBootFiles {
  kernelPath: string;
  initrdPath: string;
  /** `uname -r` inside the guest. */
  kernelVersion: string;
  /** content hash of kernel+initrd inputs */
  hash: string;
}

export interface GuestBootOptions {
  cacheDir: string;
  /** dist/agentiso-guest.cjs: copied into the initramfs as /agentiso/agent.cjs. */
  agentBundlePath: string;
  logger: Logger;
  signal?: AbortSignal;
  /** default /usr/bin/tini-static */
  tiniPath?: string;
  /** default /bin/busybox (busybox-static) */
  busyboxPath?: string;
  /** default images/vm/init.sh of this package */
  initScriptPath?: string;
  /** default "none": under TCG the guest unpacks an uncompressed archive faster than it inflates gzip */
  compression?: InitrdCompression;
}

const LOCK_TIMEOUT_MS = 15 * 60_000;
const inFlight = new Map<string, Promise<GuestBootFiles>>();

// Builds (or finds in the cache) vmlinux + initrd for microVM workspaces; concurrent callers
// (also other processes) share one build.
export function ensureGuestBootFiles(options: GuestBootOptions): Promise<GuestBootFiles> {
  const key = JSON.stringify([options.cacheDir, options.agentBundlePath, options.tiniPath, options.busyboxPath, options.initScriptPath, options.compression]);
  let pending = inFlight.get(key);
  if (!pending) {
    pending = buildOrReuse(options).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

async function buildOrReuse(options: GuestBootOptions): Promise<GuestBootFiles> {
  await mkdir(options.cacheDir, { recursive: true });
  const lock = await acquireFileLock(join(options.cacheDir, "vm-boot.lock"), LOCK_TIMEOUT_MS, options.signal);
  try {
    const kernel = await ensureGuestKernel(options.cacheDir, options.logger, options.signal);
    const inputs = await readInputs(options);
    const hash = bootHash(kernel, inputs);
    const dir = join(options.cacheDir, "vm-boot", hash);
    const files = { kernelPath: join(dir, "vmlinux"), initrdPath: join(dir, "initrd.img"), kernelVersion: kernel.release, hash };
    if (await isFile(join(dir, "boot.json"))) return files;
    await writeBootDir(dir, kernel, inputs, options);
    return files;
  } finally {
    await lock.release();
  }
}

interface BootInputs {
  initScript: Buffer;
  agentBundle: Buffer;
  tini: Buffer;
  busybox: Buffer;
  busyboxPath: string;
  compression: InitrdCompression;
}

async function readInputs(options: GuestBootOptions): Promise<BootInputs> {
  const busyboxPath = options.busyboxPath ?? "/bin/busybox";
  const read = (path: string, what: string) =>
    readFile(path).catch((cause: unknown) => {
      throw new AgentisoError("NOT_FOUND", `${what} not found at ${path}`, { cause });
    });
  const [initScript, agentBundle, tini, busybox] = await Promise.all([
    read(options.initScriptPath ?? defaultInitScriptPath(), "the microVM /init script (images/vm/init.sh)"),
    read(options.agentBundlePath, "the guest agent bundle (run `npm run build`)"),
    read(options.tiniPath ?? "/usr/bin/tini-static", "tini-static (apt-get install tini)"),
    read(busyboxPath, "busybox-static (apt-get install busybox-static)"),
  ]);
  return { initScript, agentBundle, tini, busybox, busyboxPath, compression: options.compression ?? "none" };
}

// sha256 over everything that ends up in vmlinux or the initrd.
function bootHash(kernel: GuestKernel, inputs: BootInputs): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ release: kernel.release, packageVersion: kernel.packageVersion, modules: kernel.modules, compression: inputs.compression }));
  for (const part of [inputs.initScript, inputs.agentBundle, inputs.tini, inputs.busybox]) {
    hash.update(String(part.length) + ":").update(part);
  }
  return hash.digest("hex").slice(0, 32);
}

async function writeBootDir(dir: string, kernel: GuestKernel, inputs: BootInputs, options: GuestBootOptions): Promise<void> {
  const started = Date.now();
  await removeStaleBuilds(dirname(dir));
  const scratch = join(dirname(dir), `.build-${randomBytes(4).toString("hex")}`);
  await mkdir(scratch, { recursive: true });
  try {
    const initrd = await buildInitramfs({ ...inputs, modulesDir: join(kernel.dir, "modules"), modules: kernel.modules }, options.signal);
    await writeFile(join(scratch, "initrd.img"), initrd);
    await link(kernel.vmlinuxPath, join(scratch, "vmlinux")).catch(() => copyFile(kernel.vmlinuxPath, join(scratch, "vmlinux")));
    await writeFile(join(scratch, "boot.json"), JSON.stringify({ kernelVersion: kernel.release, modules: kernel.modules, initrdBytes: initrd.length }) + "\n");
    await rm(dir, { recursive: true, force: true });
    await rename(scratch, dir);
    options.logger.info("guest initramfs built", { dir, initrdBytes: initrd.length, durationMs: Date.now() - started });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

// images/vm/init.sh beside src/ (tsx) or dist/ (the bundled CLI).
function defaultInitScriptPath(): string {
  for (let dir = import.meta.dirname, i = 0; i < 5; dir = dirname(dir), i++) {
    const candidate = join(dir, "images", "vm", "init.sh");
    if (existsSync(candidate)) return candidate;
  }
  return join(import.meta.dirname, "../../../images/vm/init.sh");
}
