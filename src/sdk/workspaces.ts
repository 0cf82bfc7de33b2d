// `agentiso.workspaces`: create, find and list workspaces as WorkspaceHandle objects.
import type { CallOptions } from "../api/api-client.js";
import type { InputOf } from "../contract/contract.js";
import type { Contracts } from "../contract/registry.js";
import type { OperationMethods } from "./operation-methods.js";
import { WorkspaceHandle } from "./workspace-handle.js";

export class Workspaces {
  constructor(private readonly operations: OperationMethods) {}

  /** Creates and starts a workspace (image "base" unless given). */
  async create(input: InputOf<Contracts["workspaceCreate"]> = {}, options?: CallOptions): Promise<WorkspaceHandle> {
    return new WorkspaceHandle(this.operations, await this.operations.workspaceCreate(input, options));
  }

  /** The workspace named (or with the id) `ref`; NOT_FOUND when there is none. */
  async get(ref: string): Promise<WorkspaceHandle> {
    const { snapshots: _snapshots, ...info } = await this.operations.workspaceInfo({ workspace: ref });
    return new WorkspaceHandle(this.operations, info);
  }

  async list(input: InputOf<Contracts["workspaceList"]> = {}): Promise<WorkspaceHandle[]> {
    return (await this.operations.workspaceList(input)).map((info) => new WorkspaceHandle(this.operations, info));
  }
}
