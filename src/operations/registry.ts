// Every operation the daemon runs: one implementation per contract of src/contract/registry.ts
// (terminal contracts included), found among the exports of the operation files and listed in
// the contracts' order. A
// contract nobody implements stops the daemon at start (and every test) instead of
// answering NOT_FOUND one day.
import { AgentisoError } from "../core/errors.js";
import { CONTRACTS, TERMINAL_CONTRACTS } from "../contract/registry.js";
import type { Operation } from "./operation.js";
import * as execOperations from "./exec-operations.js";
import * as fileOperations from "./file-operations.js";
import * as gitOperations from "./git-operations.js";
import * as mergeOperation from "./merge-operation.js";
import * as networkOperations from "./network-operations.js";
import * as lifecycleOperations from "./lifecycle-operations.js";
import * as orchestrateOperation from "./orchestrate-operation.js";
import * as portOperations from "./port-operations.js";
import * as prepareOperation from "./prepare-operation.js";
import * as shellOperation from "./shell-operation.js";
import * as snapshotOperations from "./snapshot-operations.js";
import * as workspaceOperations from "./workspace-operations.js";

const MODULES = [workspaceOperations, lifecycleOperations, networkOperations, portOperations, execOperations, fileOperations, snapshotOperations, prepareOperation, gitOperations, mergeOperation, orchestrateOperation, shellOperation];

const implemented = new Map(
  MODULES.flatMap((module) => Object.values(module) as unknown[])
    .filter(isOperation)
    .map((operation) => [operation.name, operation]),
);

function implementationOf(contract: { name: string }): Operation {
  const operation = implemented.get(contract.name);
  if (!operation) throw new AgentisoError("INTERNAL", `operation ${contract.name} has a contract but no implementation`);
  return operation;
}

export const OPERATIONS: readonly Operation[] = CONTRACTS.map(implementationOf);

/** Operations that need a user's terminal (TERMINAL_CONTRACTS): called only with an Invocation's terminal. */
export const TERMINAL_OPERATIONS: readonly Operation[] = TERMINAL_CONTRACTS.map(implementationOf);

function isOperation(value: unknown): value is Operation {
  return typeof value === "object" && value !== null && typeof (value as Operation).run === "function" && typeof (value as Operation).name === "string";
}
