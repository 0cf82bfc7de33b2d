// Whose a session is, and what it may learn. The sessions of an MCP client that logs in with a
// credential (TCP MCP, `[[daemon.clients]]`) are scoped under it: their owner string is
// "<client>:<session>". Session names cannot hold ":", so a client names only its own sessions,
// and the host's own sessions (stdio `agentiso serve`, the unix socket: bare names) are out of
// every client's reach. Errors a session gets name no workspace it does not own.
import { AgentisoError } from "../core/errors.js";

/** Client names a credential may not take: "agentiso:" scopes the engine's own (the warm pool). */
export const RESERVED_CLIENT_NAMES: readonly string[] = ["agentiso"];

// The owner string of `session` opened with `client`'s credential.
export function clientSession(client: string, session: string): string {
  return `${client}:${session}`;
}

// The client a session belongs to; undefined for the host's own sessions.
export function clientOf(session: string | undefined): string | undefined {
  const colon = session?.indexOf(":") ?? -1;
  return colon > 0 ? session!.slice(0, colon) : undefined;
}

// A workspace a session may take over: one of its client's other sessions' (a reconnected
// client), or, for the host's own sessions, one that no session owns (created from the CLI).
export function mayAdopt(session: string, owner: string | undefined): boolean {
  if (owner === session) return true;
  const client = clientOf(session);
  return client === undefined ? owner === undefined : owner !== undefined && clientOf(owner) === client;
}

// The answer for a workspace the session may not see: the same whether it exists or not.
export function notInSession(ref: string): AgentisoError {
  return new AgentisoError("NOT_FOUND", `no workspace ${JSON.stringify(ref)} in this session (see workspace_list; workspace_adopt takes over unowned ones)`);
}
