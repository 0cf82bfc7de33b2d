// The btrfs pool of a machine that has no btrfs or ZFS pool configured: a sparse loop file
// under the state dir, formatted once, mounted with quotas on. setup() is idempotent — run
// twice it finds the mount and does nothing; after a reboot (file present, nothing mounted)
// it re-attaches the same file, reusing a loop device still bound to it. Mounted nosuid,nodev:
// every workspace writes here as root-inside, and a setuid file or a device node it planted
// must give nothing to whoever runs or opens it on the host (a pool mounted by an older
// version without them is remounted with them).
import { mkdir, open, stat } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { ResourceTag } from "../core/resource-tag.js";
import { runCommand } from "../core/run-command.js";
import { withDeadline } from "../core/deadline.js";
import { enableSimpleQuotas } from "./btrfs-cli.js";
import { describeHolders, mountHolders } from "./mount-holders.js";
import { hasSafeFlags, mountAt, SAFE_FLAGS } from "./mount-table.js";

export interface LoopPoolOptions {
  stateDir: string;
  tag: ResourceTag;
  logger: Logger;
  /** Apparent size of the sparse file; only blocks written use disk. Default 64 GiB. */
  sizeBytes?: number;
}

export interface LoopPoolState {
  mountPoint: string;
  imagePath: string;
  loopDevice: string;
  /** What this setup() call had to do. */
  action: "created" | "reattached" | "already-mounted";
}

const SETUP_TIMEOUT_MS = 120_000;
// Measured: 8 pools unmounted at once on a loaded 2-core machine (load 15) took over 10 s to
// let go of their devices; they all did, later.
const DETACH_TIMEOUT_MS = 90_000;

export class BtrfsLoopPool {
  readonly imagePath: string;
  readonly mountPoint: string;
  private inflight: Promise<LoopPoolState> | undefined;

  constructor(private readonly options: LoopPoolOptions) {
    const dir = join(options.stateDir, "pool");
    this.imagePath = join(dir, `${options.tag.name("pool")}.btrfs.img`);
    this.mountPoint = join(dir, "mnt");
  }

  // Creates, re-attaches or finds the pool; concurrent callers share one attempt.
  setup(signal?: AbortSignal): Promise<LoopPoolState> {
    this.inflight ??= this.attach(withDeadline(SETUP_TIMEOUT_MS, signal)).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  // Unmounts the pool and frees its loop devices; the file (the data) stays. The kernel may
  // still hold the device for a moment after umount returns (the filesystem's last reference
  // to it is dropped asynchronously), and `losetup -d` on a busy device only marks it for
  // autoclear: so this waits until no device is bound to the file any more. It never runs
  // `losetup -d` on a device marked for autoclear: the kernel may free such a device at any
  // moment, another pool may attach the number, and the detach would hit that pool instead.
  async detach(): Promise<void> {
    if (await mountAt(this.mountPoint)) await runCommand(["umount", "--", this.mountPoint]);
    const deadline = Date.now() + DETACH_TIMEOUT_MS;
    for (;;) {
      const devices = await this.loopDevices();
      if (devices.length === 0) return;
      if (Date.now() > deadline) {
        const holders = describeHolders((await Promise.all(devices.map(mountHolders))).flat());
        throw new AgentisoError("BACKEND_FAILED", `loop device ${devices.join(", ")} of ${this.imagePath} is still in use ${DETACH_TIMEOUT_MS / 1000} s after unmounting the pool${holders}`);
      }
      // Not autoclear: bound to our file until someone detaches it, and only we do.
      for (const device of devices.filter(isPinned)) await runCommand(["losetup", "-d", device], { check: false });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  // Loop devices currently bound to the pool file (normally at most one).
  async loopDevices(): Promise<string[]> {
    const { stdout } = await runCommand(["losetup", "-j", this.imagePath, "-O", "NAME", "-n"], { check: false });
    return stdout.split("\n").map((l) => l.trim()).filter(Boolean);
  }

  private async attach(signal: AbortSignal): Promise<LoopPoolState> {
    const mounted = await mountAt(this.mountPoint);
    if (mounted) {
      const loopDevice = await this.checkMountedSource(mounted.source);
      if (!hasSafeFlags(mounted.options)) await runCommand(["mount", "-o", `remount,${SAFE_FLAGS}`, "--", this.mountPoint], { signal });
      return { ...this.paths(), loopDevice, action: "already-mounted" };
    }
    await mkdir(this.mountPoint, { recursive: true });
    const created = await this.createImageIfMissing(signal);
    // A device marked for autoclear is on its way out (a detach just ran): attach anew.
    const [existing] = (await this.loopDevices()).filter(isPinned);
    const loopDevice = existing ?? (await attachLoopDevice(this.imagePath, signal));
    try {
      await runCommand(["mount", "-t", "btrfs", "-o", SAFE_FLAGS, "--", loopDevice, this.mountPoint], { signal });
    } catch (err) {
      // a pool that cannot be mounted must not keep a loop device bound to its file
      if (existing === undefined) await runCommand(["losetup", "-d", loopDevice], { check: false });
      throw err;
    }
    await this.ensureQuotas(signal);
    const action = created ? "created" : "reattached";
    this.options.logger.info("btrfs loop pool attached", { action, loopDevice, mountPoint: this.mountPoint });
    return { ...this.paths(), loopDevice, action };
  }

  private paths(): { mountPoint: string; imagePath: string } {
    return { mountPoint: this.mountPoint, imagePath: this.imagePath };
  }

  private async checkMountedSource(source: string): Promise<string> {
    const devices = await this.loopDevices();
    if (!devices.includes(source)) {
      throw new AgentisoError("CONFLICT", `${this.mountPoint} is mounted from ${source}, not from the pool file ${this.imagePath}: unmount it`);
    }
    return source;
  }

  private async createImageIfMissing(signal: AbortSignal): Promise<boolean> {
    if (await stat(this.imagePath).catch(() => undefined)) return false;
    const file = await open(this.imagePath, "wx");
    try {
      await file.truncate(this.options.sizeBytes ?? 64 * 1024 ** 3);
    } finally {
      await file.close();
    }
    await runCommand(["mkfs.btrfs", "-q", "-L", this.options.tag.name("pool"), "--", this.imagePath], { signal });
    return true;
  }

  // Quotas are enabled while the pool is empty, so no rescan is ever needed: simple quotas where
  // the kernel has them (a workspace's snapshots then count against its limit, see
  // btrfs-storage.ts), classic ones before kernel 6.7. A pool keeps the mode it was created with.
  private async ensureQuotas(signal: AbortSignal): Promise<void> {
    const probe = await runCommand(["btrfs", "qgroup", "show", this.mountPoint], { check: false, signal });
    if (probe.exitCode === 0) return;
    if (await enableSimpleQuotas(this.mountPoint)) return;
    this.options.logger.warn("this kernel has no simple quotas (6.7+): snapshots will not count against their workspace's disk limit");
    await runCommand(["btrfs", "quota", "enable", this.mountPoint], { signal });
  }
}

// Whether the device stays bound until someone detaches it: bound now and not marked for
// autoclear (the kernel frees such a device by itself once its last user lets go of it). A
// device already unbound reads as not pinned: its number may belong to another pool by now.
function isPinned(device: string): boolean {
  try {
    return readFileSync(`/sys/block/${basename(device)}/loop/autoclear`, "utf8").trim() === "0";
  } catch {
    return false;
  }
}

// `losetup --find` picks the first free device; a concurrent attach elsewhere on the host can
// take it between the pick and the bind (EBUSY), so a few attempts are expected to be needed.
async function attachLoopDevice(imagePath: string, signal: AbortSignal): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await runCommand(["losetup", "--find", "--show", "--", imagePath], { signal })).stdout.trim();
    } catch (err) {
      if (attempt >= 5 || !/busy|resource temporarily/i.test((err as Error).message)) throw err;
    }
  }
}
