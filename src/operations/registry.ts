// Every operation the daemon runs: one per contract of src/contract/registry.ts, in its order
// (test/unit/operation-contract.test.ts holds the two lists together).
import type { Operation } from "./operation.js";
import { orchestrateOperation } from "./orchestrate-operation.js";
import { exec, execBackground, execParallel, setEnv } from "./exec-operations.js";
import { fileEdit, fileList, fileRead, fileTransfer, fileWrite } from "./file-operations.js";
import { snapshot, workspaceBatchFork, workspaceFork } from "./snapshot-operations.js";
import { gitClone, gitCommit, gitDiff, gitStatus } from "./git-operations.js";
import { workspacePrepare } from "./prepare-operation.js";
import {
  workspaceAdopt,
  workspaceCreate,
  workspaceDestroy,
  workspaceInfo,
  workspacePool,
  workspaceList,
  workspaceLogs,
  workspaceNetwork,
  workspaceStart,
  workspaceStop,
} from "./workspace-operations.js";

export const OPERATIONS: readonly Operation[] = [
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
  orchestrateOperation,
] as readonly Operation[];
