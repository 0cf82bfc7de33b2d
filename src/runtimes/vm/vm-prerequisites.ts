// What the vm runtime needs from the host, for `agentiso check`: QEMU, KVM (or the TCG
// fallback), vhost-vsock, the guest kernel and initramfs, and which boot path will be used.
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { runCommand } from "../../core/run-command.js";
import type { GuestBootFiles } from "../../images/vm-boot/index.js";
import type { PrerequisiteCheck } from "../workspace-runtime.js";
import { kvmUsable, vhostVsockUsable, type AccelSetting } from "./accel.js";

export interface VmPrerequisiteInput {
  qemuBinary: string;
  accelSetting: AccelSetting;
  agentBundlePath: string;
  /** Builds or finds the guest kernel + initramfs (downloads Debian's cloud kernel once). */
  bootFiles: () => Promise<GuestBootFiles>;
  /** The accelerator VMs will use (for "auto": after a KVM boot probe). */
  accel: () => Promise<"kvm" | "tcg">;
}

// Runs every check; never throws. KVM and vhost-vsock are optional (TCG and virtio-serial stand in).
export async function checkVmPrerequisites(input: VmPrerequisiteInput): Promise<PrerequisiteCheck[]> {
  const [qemu, kvm, vsock, boot, agent] = await Promise.all([
    qemuCheck(input.qemuBinary),
    kvmUsable(),
    vhostVsockUsable(),
    bootFilesCheck(input.bootFiles),
    access(input.agentBundlePath, constants.R_OK).then(() => true, () => false),
  ]);
  const accel = boot.ok ? await input.accel().catch(() => "tcg" as const) : "tcg";
  const kvmDetail = !kvm
    ? "no usable /dev/kvm: VMs run under TCG (software emulation, slower)"
    : accel === "kvm" || input.accelSetting === "tcg"
      ? "/dev/kvm is usable: hardware-accelerated VMs"
      : "/dev/kvm is present but a guest does not boot under it (nested virtualization?): VMs run under TCG";
  return [
    qemu,
    { name: "kvm", ok: true, detail: kvmDetail },
    { name: "vhost-vsock", ok: true, detail: vsock ? "/dev/vhost-vsock is usable" : "no /dev/vhost-vsock: the agent is reached over virtio-serial" },
    { name: "vm path", ok: input.accelSetting !== "kvm" || kvm, detail: `${accel === "kvm" ? "KVM (-accel kvm -cpu host)" : "TCG (-M microvm,pit=on,pic=on, tsc_early_khz)"}, virtio-serial transport, memory-snapshot templates`, ...(input.accelSetting === "kvm" && !kvm && { fix: "set vm.accel = \"auto\" or give this user access to /dev/kvm" }) },
    boot,
    { name: "guest agent bundle", ok: agent, detail: input.agentBundlePath, ...(!agent && { fix: "npm run build" }) },
  ];
}

async function qemuCheck(binary: string): Promise<PrerequisiteCheck> {
  try {
    const { stdout } = await runCommand([binary, "--version"], { timeoutMs: 10_000 });
    return { name: "qemu", ok: true, detail: stdout.split("\n")[0]!.trim() };
  } catch (err) {
    return { name: "qemu", ok: false, detail: (err as Error).message, fix: "apt-get install qemu-system-x86 qemu-utils" };
  }
}

async function bootFilesCheck(bootFiles: () => Promise<GuestBootFiles>): Promise<PrerequisiteCheck> {
  try {
    const files = await bootFiles();
    return { name: "guest kernel", ok: true, detail: `Debian cloud kernel ${files.kernelVersion}: ${files.kernelPath}, initramfs ${files.initrdPath}` };
  } catch (err) {
    return { name: "guest kernel", ok: false, detail: (err as Error).message, fix: "apt-get update (the kernel comes from Debian's linux-image-cloud-amd64); apt-get install busybox-static tini" };
  }
}
