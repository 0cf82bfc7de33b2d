// The workspace contract (test/support/workspace-contract.ts) on the vm runtime: real QEMU
// microVMs under TCG (software emulation, as on machines without /dev/kvm, even where KVM
// exists), booted from memory-snapshot templates, on the btrfs loop-file pool; its golden
// snapshot holds the VM's memory, so its forks and the restore resume instead of booting.
import { describeWorkspaceContract } from "../support/workspace-contract.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

describeWorkspaceContract({
  runtime: "vm",
  skip: requires(isRoot(), hasCommand("qemu-system-x86_64"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("mkfs.ext4")),
  env: { AGENTISO_VM_ACCEL: "tcg" },
  egress: false,
  commonTests: false,
  // the forks and the restore resume the saved machine instead of booting (docs/runtime-vm.md)
  snapshotMemory: true,
});
