// The workspace an operation names, looked up with the caller's owner check, and its connected
// guest: the first step of every operation that runs something inside a workspace.
import type { WorkspaceRecord } from "../engine/workspace-record.js";
import type { GuestClient } from "../guest/guest-client.js";
import { workspaceFor, type OperationContext } from "./operation.js";

export interface WorkspaceGuest {
  record: WorkspaceRecord;
  guest: GuestClient;
}

// A session gets NOT_FOUND for a workspace it does not own, as for one that does not exist.
export async function guestFor(ctx: OperationContext, ref: string): Promise<WorkspaceGuest> {
  const record = workspaceFor(ctx, ref);
  return { record, guest: await ctx.services.engine.workspaces.guest(record.id, ctx.signal) };
}
