// The QEMU command line of one microVM workspace, as a pure function of its launch spec, so
// every flag is unit-tested and the runtime only spawns what this returns. `-M microvm` has
// no PCI: every device is a virtio-mmio one. A network device only when `network` is given (an
// `egress` workspace): QEMU's own user-mode NAT, whose sockets the runtime opens inside the
// workspace's network namespace (vm-network.ts). Otherwise none at all: the LLM and port
// forwards go through the agent's tunnels either way.
//
// QEMU parses what the guest does (devices, the migration stream): it is confined as if it were
// the guest. `-sandbox on` installs QEMU's seccomp filter; `-runas` drops root once every file
// and socket is open (the daemon, as root, still reaches them: QMP, the agent socket, kill).
// QEMU 7.2 installs the filter BEFORE -daemonize forks and calls setsid, so `spawn=deny` and
// `elevateprivileges=deny` kill it at start (measured: SIGSYS on setsid); -runas then needs
// setuid too. What we keep: obsolete and resource-control syscalls denied, and root gone.
import { AgentisoError } from "../../core/errors.js";

export interface QemuLaunchSpec {
  /** Tagged resource name → `-name <name>,process=<name>`. */
  name: string;
  accel: "kvm" | "tcg";
  memoryMiB: number;
  cpus: number;
  kernelPath: string;
  initrdPath: string;
  disk: { path: string; format: "raw" | "qcow2" | "device" };
  /** virtio-serial port (name "agentiso") on `-chardev socket,server=on,wait=off`. */
  agentSocketPath: string;
  /** QMP on a unix socket, server=on,wait=off. */
  qmpSocketPath: string;
  /** The serial console (console=ttyS0) goes to this file. */
  consoleLogPath: string;
  /** With -daemonize: QEMU forks, and the parent exits once the VM is set up. */
  pidFilePath: string;
  /** TCG: kernel arg tsc_early_khz (see host-tsc.ts). */
  tscKhz?: number;
  /** Adds vhost-vsock-device with this guest CID when given. */
  vsockCid?: number;
  /** Memory-snapshot restore: start with -incoming defer. */
  incoming?: "defer";
  /** UUID for -device vmgenid,guid=... */
  vmgenid?: string;
  /** Extra kernel arguments. */
  kernelArgs?: string[];
  /** Drop to this uid:gid once set up (-runas). Unset: QEMU stays root (still sandboxed). */
  runAs?: { uid: number; gid: number };
  /** A virtio-net device on QEMU's user-mode network (GUEST_NET); the guest's /etc/resolv.conf names `resolver`. Unset: no network device. */
  network?: { resolver: string };
}

/**
 * The guest's side of QEMU's user-mode network. Its own /24, not slirp4netns' 10.0.2.0/24 of
 * the namespace around QEMU: the guest's resolver (10.0.2.3, the namespace's, as a container's)
 * is then an outside address to QEMU, connected to from the namespace like any other, instead
 * of QEMU's built-in forwarder. The gateway is QEMU's alias of its host: the namespace's own
 * loopback, where nothing listens. /init configures the guest statically (agentiso.ip= ...).
 */
export const GUEST_NET = { cidr: "10.0.3.0/24", gateway: "10.0.3.2", qemuDns: "10.0.3.3", address: "10.0.3.15", prefix: 24 } as const;

/** The TCG translation cache (MiB): part of QEMU's own memory under TCG. */
export const TCG_CODE_BUFFER_MIB = 256;

/** QEMU's seccomp filter: the strictest set -daemonize (and -runas) survive on QEMU 7.2 (see the top of this file). */
export const QEMU_SANDBOX = "on,obsolete=deny,resourcecontrol=deny";

/** The virtio-serial port name /init looks for (agentiso.port=). */
export const AGENT_PORT_NAME = "agentiso";
/** Where node lives in agentiso's images; /init's default too. */
export const GUEST_NODE_PATH = "/usr/bin/node";

// Returns the full argv (binary first) that starts the workspace's QEMU, daemonized.
export function buildQemuArgv(spec: QemuLaunchSpec, qemuBinary = "qemu-system-x86_64"): string[] {
  validate(spec);
  const name = escapeOption(spec.name);
  return [
    qemuBinary,
    "-name", `${name},process=${name}`,
    ...machineArgs(spec),
    "-m", `${spec.memoryMiB}M`,
    "-smp", String(spec.cpus),
    "-nodefaults", "-no-user-config", "-nic", "none", "-display", "none", "-no-reboot",
    "-sandbox", QEMU_SANDBOX,
    ...(spec.runAs === undefined ? [] : ["-runas", `${spec.runAs.uid}:${spec.runAs.gid}`]),
    "-kernel", spec.kernelPath,
    "-initrd", spec.initrdPath,
    "-append", kernelCommandLine(spec),
    // append: the daemon rotates the file in place (core/log-rotation.ts); QEMU's next write lands at 0
    "-chardev", `file,id=console,path=${escapeOption(spec.consoleLogPath)},append=on`,
    "-serial", "chardev:console",
    "-chardev", `socket,id=qmp,path=${escapeOption(spec.qmpSocketPath)},server=on,wait=off`,
    "-mon", "chardev=qmp,mode=control",
    ...diskArgs(spec.disk),
    "-chardev", `socket,id=agent,path=${escapeOption(spec.agentSocketPath)},server=on,wait=off`,
    "-device", "virtio-serial-device,max_ports=2",
    // the id makes QEMU emit VSERPORT_CHANGE when the guest opens or closes the port (readiness)
    "-device", `virtserialport,chardev=agent,name=${AGENT_PORT_NAME},id=${AGENT_PORT_NAME}`,
    "-device", "virtio-rng-device",
    ...networkArgs(spec.network),
    ...(spec.vsockCid === undefined ? [] : ["-device", `vhost-vsock-device,guest-cid=${spec.vsockCid}`]),
    ...(spec.vmgenid === undefined ? [] : ["-device", `vmgenid,guid=${spec.vmgenid}`]),
    ...(spec.incoming === undefined ? [] : ["-incoming", spec.incoming]),
    "-daemonize", "-pidfile", spec.pidFilePath,
  ];
}

// The kernel command line /init (images/vm/init.sh) relies on.
export function kernelCommandLine(spec: QemuLaunchSpec): string {
  const args = [
    "console=ttyS0",
    "root=/dev/vda",
    `agentiso.port=${AGENT_PORT_NAME}`,
    `agentiso.node=${GUEST_NODE_PATH}`,
    // PID 1 (tini) exiting panics the kernel: reboot at once, which -no-reboot turns into QEMU exiting.
    "panic=-1",
    "quiet",
    // No PCI on microvm; skip probing legacy hardware that is not there.
    "pci=off", "i8042.noaux", "i8042.nomux", "i8042.nopnp", "i8042.dumbkbd", "8250.nr_uarts=1",
    "random.trust_cpu=on", "cryptomgr.notests",
    // microvm under TCG hangs calibrating timers without pit/pic and a given TSC frequency.
    ...(spec.accel === "tcg" ? [`tsc_early_khz=${spec.tscKhz ?? tscRequired()}`, "no_timer_check"] : []),
    ...(spec.network === undefined ? [] : [`agentiso.ip=${GUEST_NET.address}/${GUEST_NET.prefix}`, `agentiso.gw=${GUEST_NET.gateway}`, `agentiso.dns=${spec.network.resolver}`]),
    ...(spec.kernelArgs ?? []),
  ];
  return args.join(" ");
}

// QEMU's libslirp without IPv6 (the namespace has no v6 route out) and no services but DHCP/DNS it always has.
function networkArgs(network: QemuLaunchSpec["network"]): string[] {
  if (network === undefined) return [];
  const user = `user,id=net0,net=${GUEST_NET.cidr},host=${GUEST_NET.gateway},dns=${GUEST_NET.qemuDns},ipv6=off`;
  return ["-netdev", user, "-device", "virtio-net-device,netdev=net0"];
}

function machineArgs(spec: QemuLaunchSpec): string[] {
  // Nested KVM on AMD hosts refuses QEMU's IA32_ARCH_CAPABILITIES MSR (0x10a) and QEMU aborts: leave it out.
  if (spec.accel === "kvm") return ["-M", "microvm,acpi=on,rtc=on", "-accel", "kvm", "-cpu", "host,-arch-capabilities"];
  // TCG's translated-code buffer defaults to 1 GiB of address space, filled as the guest runs:
  // bounded so the QEMU process fits its cgroup (guest RAM + TCG_CODE_BUFFER_MIB + overhead).
  return ["-M", "microvm,acpi=on,rtc=on,pit=on,pic=on", "-accel", `tcg,tb-size=${TCG_CODE_BUFFER_MIB}`, "-cpu", "max"];
}

function diskArgs(disk: QemuLaunchSpec["disk"]): string[] {
  const path = escapeOption(disk.path);
  // A block device (zvol) skips the host page cache; image files use it (writeback) and
  // pass discards through so deleted guest files free space in the pool.
  const drive = disk.format === "device"
    ? `file=${path},format=raw,cache=none,aio=native`
    : `file=${path},format=${disk.format},cache=writeback,discard=unmap`;
  // auto-read-only=off: a memory save (migration) drops the disk to read-only and `cont` takes
  // it back; with -drive's default (on) QEMU reopens the file BY PATH each time, which the
  // -runas uid cannot (the state dir is 0710): the save failed, and a saved VM could not run on.
  return ["-drive", `id=root,if=none,${drive},auto-read-only=off`, "-device", "virtio-blk-device,drive=root"];
}

// QEMU splits option values at commas; a literal comma is written as two.
export function escapeOption(value: string): string {
  return value.replace(/,/g, ",,");
}

function validate(spec: QemuLaunchSpec): void {
  const invalid = (message: string) => new AgentisoError("INVALID_INPUT", `QEMU launch spec: ${message}`);
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 64) throw invalid(`memoryMiB must be an integer >= 64, got ${spec.memoryMiB}`);
  if (!Number.isInteger(spec.cpus) || spec.cpus < 1 || spec.cpus > 64) throw invalid(`cpus must be an integer 1-64, got ${spec.cpus}`);
  // -kernel/-initrd are plain paths for Linux but comma-separated lists for multiboot: refuse.
  for (const [what, path] of [["kernelPath", spec.kernelPath], ["initrdPath", spec.initrdPath]] as const) {
    if (path.includes(",")) throw invalid(`${what} may not contain a comma: ${path}`);
  }
  for (const arg of spec.kernelArgs ?? []) {
    if (arg === "" || /[\s"]/.test(arg)) throw invalid(`kernel argument ${JSON.stringify(arg)} is empty or contains whitespace or quotes`);
  }
  if (spec.vsockCid !== undefined && (!Number.isInteger(spec.vsockCid) || spec.vsockCid < 3 || spec.vsockCid > 0xfffffffe)) {
    throw invalid(`vsockCid must be an integer from 3 to 4294967294, got ${spec.vsockCid}`);
  }
  if (spec.vmgenid !== undefined && !/^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(spec.vmgenid)) throw invalid(`vmgenid must be a UUID, got ${spec.vmgenid}`);
  if (spec.network !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(spec.network.resolver)) throw invalid(`network.resolver must be an IPv4 address, got ${spec.network.resolver}`);
  if (spec.tscKhz !== undefined && (!Number.isInteger(spec.tscKhz) || spec.tscKhz <= 0)) throw invalid(`tscKhz must be a positive integer, got ${spec.tscKhz}`);
  for (const id of spec.runAs === undefined ? [] : [spec.runAs.uid, spec.runAs.gid]) {
    if (!Number.isInteger(id) || id <= 0 || id >= 2 ** 32 - 1) throw invalid(`runAs ids must be unprivileged (1 to 4294967294), got ${id}`);
  }
}

function tscRequired(): never {
  throw new AgentisoError("INVALID_INPUT", "QEMU launch spec: accel tcg needs tscKhz (hostTscKhz()): microvm hangs calibrating timers without it");
}
