// Every operation, in the order front doors list them. MCP tools, control-API endpoints and CLI
// commands are all generated from (or mapped onto) this list.
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
  // Added with the MCP server: golden-workspace preparation and git inside a workspace.
  workspacePrepare,
  gitClone,
  gitStatus,
  gitDiff,
  gitCommit,
  orchestrateOperation,
] as readonly Operation[];
