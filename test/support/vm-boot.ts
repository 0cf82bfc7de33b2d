// Shared pieces for tests that boot real microVMs: the guest kernel + initramfs from a cache
// OUTSIDE the repo clone, an ext4 workspace disk made from the base image, and a QEMU launch
// that returns the daemonized QEMU's pid and always cleans up after itself.
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { createLogger } from "../../src/core/logger.js";
import { isRunning, waitForExit } from "../../src/core/process-state.js";
import { runCommand } from "../../src/core/run-command.js";
import { GuestClient, connectUnix } from "../../src/guest/index.js";
import { ensureGuestBootFiles, type GuestBootFiles } from "../../src/images/vm-boot/index.js";
import { hostTscKhz } from "../../src/runtimes/vm/host-tsc.js";
import { buildQemuArgv, type QemuLaunchSpec } from "../../src/runtimes/vm/qemu-command.js";
import { buildDiskImage } from "../../src/storage/base-import.js";
import { AGENT_BUNDLE } from "./agent-process.js";
import { ensureBaseImage } from "./base-image.js";

export const VM_BOOT_CACHE = "/var/cache/agentiso-test/vm-boot";
const DISK_CACHE = "/var/cache/agentiso-test/vm-disks";

// The guest kernel and initramfs every VM test boots (built once per machine and input set).
export function ensureTestBootFiles(): Promise<GuestBootFiles> {
  return ensureGuestBootFiles({ cacheDir: VM_BOOT_CACHE, agentBundlePath: AGENT_BUNDLE, logger: createLogger({ level: "warn" }) });
}

// An ext4 image of the base rootfs, cached per image hash; copy it (reflink/sparse) before writing.
export async function ensureBaseDisk(): Promise<string> {
  const { rootfsDir, manifest } = await ensureBaseImage();
  const path = join(DISK_CACHE, `base-${manifest.hash.slice(0, 16)}.raw`);
  if (existsSync(path)) return path;
  await mkdir(DISK_CACHE, { recursive: true });
  const partial = `${path}.${randomBytes(4).toString("hex")}.partial`;
  try {
    await buildDiskImage({ kind: "rootfs-dir", path: rootfsDir }, partial, DISK_CACHE);
    await runCommand(["mv", "-f", "--", partial, path]);
  } finally {
    await rm(partial, { force: true });
  }
  return path;
}

// A private writable copy of the base disk at path.
export async function copyBaseDisk(path: string): Promise<void> {
  await runCommand(["cp", "--sparse=always", "--reflink=auto", "--", await ensureBaseDisk(), path]);
}

export interface BootedVm extends AsyncDisposable {
  pid: number;
  client: GuestClient;
  spec: QemuLaunchSpec;
  consoleLog(): Promise<string>;
  /** Kills QEMU (SIGKILL, by pid) if it still runs and waits for it to be gone. */
  kill(): Promise<void>;
}

export interface BootOptions {
  dir: string;
  name: string;
  accel: "kvm" | "tcg";
  diskPath: string;
  boot: GuestBootFiles;
  memoryMiB?: number;
  cpus?: number;
  kernelArgs?: string[];
}

// Starts a daemonized QEMU for the spec; resolves once QEMU has set up (sockets exist).
export async function bootVm(options: BootOptions): Promise<BootedVm> {
  const spec: QemuLaunchSpec = {
    name: options.name,
    accel: options.accel,
    memoryMiB: options.memoryMiB ?? 512,
    cpus: options.cpus ?? 2,
    kernelPath: options.boot.kernelPath,
    initrdPath: options.boot.initrdPath,
    disk: { path: options.diskPath, format: "raw" },
    agentSocketPath: join(options.dir, "agent.sock"),
    qmpSocketPath: join(options.dir, "qmp.sock"),
    consoleLogPath: join(options.dir, "console.log"),
    pidFilePath: join(options.dir, "qemu.pid"),
    tscKhz: options.accel === "tcg" ? await hostTscKhz() : undefined,
    kernelArgs: options.kernelArgs,
  };
  await runCommand(buildQemuArgv(spec), { timeoutMs: 60_000 });
  const pid = Number.parseInt(await readFile(spec.pidFilePath, "utf8"), 10);
  const client = new GuestClient({ connect: connectUnix(spec.agentSocketPath), connectTimeoutMs: 120_000 });
  const kill = async () => {
    await client.close();
    if (await isRunning(pid)) process.kill(pid, "SIGKILL");
    await waitForExit(pid, 10_000);
  };
  return { pid, client, spec, consoleLog: () => readFile(spec.consoleLogPath, "utf8").catch(() => ""), kill, [Symbol.asyncDispose]: kill };
}

let kvmProbe: Promise<boolean> | undefined;

// True when KVM really boots a guest here. An openable /dev/kvm is not enough: on some nested
// hosts QEMU starts, but the guest kernel never prints a line. The probe boots the kernel into
// `rdinit=/sbin/poweroff` (init dies → panic=-1 → -no-reboot exits); a working KVM takes ~1 s.
export function kvmBootsHere(boot: GuestBootFiles): Promise<boolean> {
  kvmProbe ??= (async () => {
    try {
      closeSync(openSync("/dev/kvm", "r+"));
    } catch {
      return false;
    }
    const argv = ["qemu-system-x86_64", "-M", "microvm", "-accel", "kvm", "-cpu", "host,-arch-capabilities", "-m", "256M", "-nodefaults", "-display", "none",
      "-no-reboot", "-kernel", boot.kernelPath, "-initrd", boot.initrdPath, "-append", "console=ttyS0 panic=-1 rdinit=/sbin/poweroff"];
    const result = await runCommand(argv, { check: false, timeoutMs: 10_000 }).catch(() => undefined);
    return result?.exitCode === 0;
  })();
  return kvmProbe;
}
