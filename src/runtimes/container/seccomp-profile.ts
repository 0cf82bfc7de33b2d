// The seccomp filter every workspace process runs under. `runc spec` ships none, so without
// this a root-in-userns process could still call mount-family, kexec, bpf, keyring and
// module syscalls, or build a nested user namespace to gain capabilities over new ones.
// Shape: allow by default, deny a fixed list (Docker's default profile denies the same
// families through an allowlist; a denylist keeps Node, git, compilers and opencode working
// without chasing every syscall they use). Other ABIs of the host CPU (i386, x32) are listed
// so the same names are denied there too and the int 0x80 / x32 side doors stay shut.
import { AgentisoError } from "../../core/errors.js";

export interface SeccompRule {
  names: string[];
  action: "SCMP_ACT_ERRNO";
  errnoRet: number;
  args?: Array<{ index: number; value: number; valueTwo: number; op: "SCMP_CMP_MASKED_EQ" }>;
}

export interface SeccompProfile {
  defaultAction: "SCMP_ACT_ALLOW";
  architectures: string[];
  syscalls: SeccompRule[];
}

const EPERM = 1;
const ENOSYS = 38;

/** Syscalls no workspace needs and each of which has been a container escape or host-wide lever. */
export const DENIED_SYSCALLS: readonly string[] = [
  // filesystems and mounts: reaching host disks, escaping the rootfs
  "mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
  "open_by_handle_at", "name_to_handle_at", "quotactl", "quotactl_fd",
  // kernel and module loading, reboot, swap, accounting
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "create_module", "get_kernel_syms", "query_module",
  "reboot", "swapon", "swapoff", "acct", "syslog", "uselib", "nfsservctl", "lookup_dcookie", "_sysctl", "sysfs", "ustat", "vhangup",
  // eBPF, perf, keyrings, userfaultfd, io_uring: large kernel attack surface
  "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
  "fanotify_init",
  // other processes: debugging and memory access across processes
  "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
  // namespaces: joining any, creating any (also checked on clone/unshare flags below)
  "setns",
  // clocks and raw I/O ports are host-wide
  "settimeofday", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex", "stime", "iopl", "ioperm",
  "vm86", "vm86old", "move_pages",
];

/** CLONE_NEW* flags: a new namespace of any kind; with CLONE_NEWUSER the caller gets full capabilities inside it. */
export const NAMESPACE_FLAGS = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
} as const;

const ARCHITECTURES: Record<string, string[]> = {
  x64: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  arm64: ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
};

// Builds the profile for the host CPU; pure so unit tests can read every rule.
export function buildSeccompProfile(arch: string = process.arch): SeccompProfile {
  const architectures = ARCHITECTURES[arch];
  if (!architectures) throw new AgentisoError("UNSUPPORTED", `the container runtime has no seccomp profile for CPU ${arch} (x64 and arm64 are supported)`);
  const namespaceRules: SeccompRule[] = ["clone", "unshare"].flatMap((name) =>
    Object.values(NAMESPACE_FLAGS).map((flag) => ({
      names: [name],
      action: "SCMP_ACT_ERRNO" as const,
      errnoRet: EPERM,
      // clone's and unshare's flags are argument 0 on x86_64 and arm64
      args: [{ index: 0, value: flag, valueTwo: flag, op: "SCMP_CMP_MASKED_EQ" as const }],
    })),
  );
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures,
    syscalls: [
      { names: [...DENIED_SYSCALLS], action: "SCMP_ACT_ERRNO", errnoRet: EPERM },
      // clone3 passes its flags in a struct seccomp cannot read: ENOSYS makes libc fall back to clone
      { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS },
      ...namespaceRules,
    ],
  };
}
