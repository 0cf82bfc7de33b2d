// Every operation's contract, in the order front doors list them. The daemon's operations
// implement exactly these (test/unit/operation-contract.test.ts checks it).
import type { OperationContract } from "./contract.js";
import { exec, execBackground, execParallel, setEnv } from "./exec-contracts.js";
import { fileDelete, fileEdit, fileList, fileMkdir, fileMove, fileRead, fileStat, fileTransfer, fileWrite } from "./file-contracts.js";
import { gitCheckout, gitClone, gitCommit, gitDiff, gitLog, gitStatus } from "./git-contracts.js";
import { workspaceMerge } from "./merge-contract.js";
import { workspaceLifecycle, workspacePause, workspaceResume } from "./lifecycle-contracts.js";
import { orchestrate } from "./orchestrate-contract.js";
import { networkPolicy } from "./network-contracts.js";
import { portForward } from "./port-contracts.js";
import { workspacePrepare } from "./prepare-contract.js";
import { snapshot, workspaceBatchFork, workspaceFork } from "./snapshot-contracts.js";
import { workspaceShell } from "./shell-contract.js";
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
  networkPolicy,
  workspaceAdopt,
  portForward,
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
  fileStat,
  fileMkdir,
  fileDelete,
  fileMove,
  fileTransfer,
  snapshot,
  workspaceFork,
  workspaceBatchFork,
  workspacePrepare,
  gitClone,
  gitStatus,
  gitDiff,
  gitCommit,
  gitLog,
  gitCheckout,
  workspaceMerge,
  orchestrate,
} as const;

export type Contracts = typeof contracts;

export const CONTRACTS: readonly OperationContract[] = Object.values(contracts);

/**
 * Contracts whose call needs a user's terminal (bytes both ways, window sizes): served only by
 * the control API's terminal upgrade, so they are no MCP tool, `agentiso op` entry or SDK method.
 */
export const terminalContracts = {
  workspaceShell,
} as const;

export const TERMINAL_CONTRACTS: readonly OperationContract[] = Object.values(terminalContracts);

const byName = new Map(CONTRACTS.map((contract) => [contract.name, contract]));

// The contract of an operation name, or undefined.
export function contractNamed(name: string): OperationContract | undefined {
  return byName.get(name);
}
