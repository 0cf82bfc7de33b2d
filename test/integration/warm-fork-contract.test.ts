// The workspace contract (test/support/workspace-contract.ts) on a warm fork: its main
// workspace is handed out by a fork pool ([pool] forksPerSnapshot = 2), and every fork the
// contract makes (and the snapshot deletes, restores and destroys around them) meets pooled
// forks too. Container runtime: forks of VMs are not pooled.
import { describeWorkspaceContract } from "../support/workspace-contract.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

describeWorkspaceContract({
  runtime: "container",
  skip: requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap")),
  egress: true,
  commonTests: false,
  warmFork: true,
});
