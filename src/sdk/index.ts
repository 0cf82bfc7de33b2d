// `import { connect } from "agentiso"`: the TypeScript SDK. It talks to a running daemon over
// its control socket; every operation and its types come from the same contracts as the MCP
// tools and the CLI (docs/sdk.md).
export { Agentiso, connect, type ConnectOptions } from "./agentiso-client.js";
export { Workspaces } from "./workspaces.js";
export { WorkspaceHandle } from "./workspace-handle.js";
export type { OperationMethods } from "./operation-methods.js";
export { contracts, CONTRACTS, type Contracts } from "../contract/registry.js";
export type { InputOf, OutputOf, OperationContract, OperationHints } from "../contract/contract.js";
export type { Workspace, Snapshot, PortForward } from "../contract/result-schemas.js";
export type { CallOptions } from "../api/api-client.js";
export { AgentisoError, isAgentisoError, ERROR_CODES, type ErrorCode } from "../core/errors.js";
