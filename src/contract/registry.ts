// Every operation's contract, in the order front doors list them. The daemon's operations
// implement exactly these (test/unit/operation-contract.test.ts checks it).
import type { OperationContract } from "./contract.js";
import { exec, execBackground, execParallel, setEnv } from "./exec-contracts.js";
import { fileEdit, fileList, fileRead, fileTransfer, fileWrite } from "./file-contracts.js";
import { gitClone, gitCommit, gitDiff, gitStatus } from "./git-contracts.js";
import { workspaceLifecycle, workspacePause, workspaceResume } from "./lifecycle-contracts.js";
import { orchestrate } from "./orchestrate-contract.js";
import { workspacePrepare } from "./prepare-contract.js";
import { snapshot, workspaceBatchFork, workspaceFork } from "./snapshot-contracts.js";
import {
  workspaceAdopt,
  workspaceCreate,
  workspaceDestroy,
  workspaceInfo,
  workspaceList,
  workspaceLogs,
  workspaceNetwork,
  workspacePool,
  workspaceStart,
  workspaceStop,
} from "./workspace-contracts.js";

/** The contracts by a name a program can use: `contracts.workspaceCreate`. */
export const contracts = {
  workspaceCreate,
  workspaceDestroy,
  workspaceStart,
  workspaceStop,
  workspaceList,
  workspaceInfo,
  workspacePool,
  workspaceLogs,
  workspaceNetwork,
  workspaceAdopt,
  workspacePause,
  workspaceResume,
  workspaceLifecycle,
  exec,
  execBackground,
  execParallel,
  setEnv,
  fileRead,
  fileWrite,
  fileEdit,
  fileList,
  fileTransfer,
  snapshot,
  workspaceFork,
  workspaceBatchFork,
  workspacePrepare,
  gitClone,
  gitStatus,
  gitDiff,
  gitCommit,
  orchestrate,
} as const;

export type Contracts = typeof contracts;

export const CONTRACTS: readonly OperationContract[] = Object.values(contracts);

const byName = new Map(CONTRACTS.map((contract) => [contract.name, contract]));

// The contract of an operation name, or undefined.
export function contractNamed(name: string): OperationContract | undefined {
  return byName.get(name);
}
