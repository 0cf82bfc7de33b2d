// The workspace contract (test/support/workspace-contract.ts) on the container runtime: runc,
// user namespace, cgroups, the btrfs loop-file pool; its main workspace comes from a warm pool
// of one (so the contract holds for a pooled one, across kill -9 and restarts too). Also runs
// the runtime-independent commands (init, check, images, bad input) once.
import { describeWorkspaceContract } from "../support/workspace-contract.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

describeWorkspaceContract({
  runtime: "container",
  skip: requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap")),
  egress: true,
  commonTests: true,
  pooled: true,
});
