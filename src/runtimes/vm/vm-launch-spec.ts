// What QEMU is asked to run for one start of a workspace: its sizes, boot files, sockets and
// devices (qemu-command.ts turns this into argv).
import type { GuestBootFiles } from "../../images/vm-boot/guest-boot-files.js";
import type { RuntimeStartSpec } from "../workspace-runtime.js";
import type { Accel } from "./accel.js";
import { hostTscKhz } from "./host-tsc.js";
import type { QemuLaunchSpec } from "./qemu-command.js";
import type { VmPaths } from "./vm-paths.js";

/** Guest RAM on top of the workspace's memory (memory.max of the guest's cgroup of the agent and every command): kernel, page tables, page cache floor. */
const GUEST_KERNEL_MIB = 64;

export interface LaunchHost {
  name: string;
  boot: GuestBootFiles;
  accel: Accel;
  runAs?: { uid: number; gid: number };
  /** The address the guest's resolv.conf names when it has a network device. */
  resolver: string;
}

export async function launchSpecFor(spec: RuntimeStartSpec, paths: VmPaths, host: LaunchHost): Promise<QemuLaunchSpec> {
  const { boot, accel } = host;
  return {
    name: host.name,
    accel,
    memoryMiB: spec.resources.memoryMiB + GUEST_KERNEL_MIB,
    cpus: Math.max(1, Math.round(spec.resources.cpus)),
    kernelPath: boot.kernelPath,
    initrdPath: boot.initrdPath,
    disk: { path: spec.rootfs.path, format: spec.rootfs.kind === "block" ? spec.rootfs.format : "raw" },
    agentSocketPath: paths.agentSocket,
    qmpSocketPath: paths.qmpSocket,
    consoleLogPath: paths.consoleLog,
    pidFilePath: paths.pidFile,
    kernelArgs: [`agentiso.pids=${spec.resources.pidsLimit}`, `agentiso.memory=${spec.resources.memoryMiB * 1024 * 1024}`],
    ...(accel === "tcg" && { tscKhz: await hostTscKhz() }),
    ...(spec.fromTemplate && { incoming: "defer" as const }),
    ...(host.runAs && { runAs: host.runAs }),
    ...(spec.network !== "none" && { network: { resolver: host.resolver } }),
  };
}
