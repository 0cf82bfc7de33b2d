// Which QEMU accelerator a VM uses: KVM when /dev/kvm can be opened read-write (hardware
// virtualisation, ~0.5 s boots), otherwise TCG (software emulation: slower, but real).
import { constants } from "node:fs";
import { access, readFile, writeFile } from "node:fs/promises";
import { runCommand } from "../../core/run-command.js";

export type Accel = "kvm" | "tcg";
export type AccelSetting = Accel | "auto";

// True when this process may use KVM.
export async function kvmUsable(): Promise<boolean> {
  return access("/dev/kvm", constants.R_OK | constants.W_OK).then(() => true, () => false);
}

// Resolves "auto" to what the machine offers; an explicit choice is kept as it is. An openable
// /dev/kvm is not enough: on some nested hosts QEMU starts but the guest never runs a line,
// so "auto" picks KVM only when `bootsUnderKvm` (a real boot probe) says it works.
export async function resolveAccel(setting: AccelSetting, bootsUnderKvm: () => Promise<boolean>): Promise<Accel> {
  if (setting !== "auto") return setting;
  return (await kvmUsable()) && (await bootsUnderKvm()) ? "kvm" : "tcg";
}

// Boots the guest kernel under KVM into `rdinit=/sbin/poweroff` (init exits, panic=-1 and
// -no-reboot end QEMU): ~1 s where KVM works; a guest that never runs is killed at timeoutMs.
export async function probeKvmBoot(qemuBinary: string, kernelPath: string, initrdPath: string, timeoutMs = 15_000): Promise<boolean> {
  const argv = [qemuBinary, "-M", "microvm", "-accel", "kvm", "-cpu", "host,-arch-capabilities", "-m", "128M", "-nodefaults", "-no-user-config", "-display", "none",
    "-no-reboot", "-kernel", kernelPath, "-initrd", initrdPath, "-append", "console=ttyS0 panic=-1 rdinit=/sbin/poweroff"];
  const result = await runCommand(argv, { check: false, timeoutMs }).catch(() => undefined);
  return result?.exitCode === 0 && result.signal === null;
}

// True when vhost-vsock can give guests an AF_VSOCK transport.
export async function vhostVsockUsable(): Promise<boolean> {
  return access("/dev/vhost-vsock", constants.R_OK | constants.W_OK).then(() => true, () => false);
}

// A probe's answer remembered in `file` until the host reboots or `key` (the boot files) changes.
export async function cachedProbe(file: string, key: string, probe: () => Promise<boolean>): Promise<boolean> {
  const bootId = (await readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => "")).trim();
  const saved = JSON.parse(await readFile(file, "utf8").catch(() => "{}")) as { bootId?: string; key?: string; works?: boolean };
  if (bootId && saved.bootId === bootId && saved.key === key && typeof saved.works === "boolean") return saved.works;
  const works = await probe();
  await writeFile(file, JSON.stringify({ bootId, key, works })).catch(() => {});
  return works;
}
