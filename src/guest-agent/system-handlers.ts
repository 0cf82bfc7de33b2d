// ping, set_env / unset_env (memory only), configure (entropy, clock, hostname, trust), shutdown.
import type { RequestOf } from "../protocol/index.js";
import type { HandlerReply, RequestContext } from "./request-context.js";

// Liveness: answers pong at once.
export async function handlePing(_request: RequestOf<"ping">, ctx: RequestContext): Promise<HandlerReply<"ping">> {
  return { id: ctx.id, type: "pong" };
}

// Stores variables in agent memory for later commands (never on disk).
export async function handleSetEnv(request: RequestOf<"set_env">, ctx: RequestContext): Promise<undefined> {
  ctx.agent.setEnv(request.vars);
  return undefined;
}

// Forgets set_env variables; unknown names are fine.
export async function handleUnsetEnv(request: RequestOf<"unset_env">, ctx: RequestContext): Promise<undefined> {
  ctx.agent.unsetEnv(request.names);
  return undefined;
}

// Applies workspace settings in a fixed order (entropy, clock, hostname); the first failure answers.
export async function handleConfigure(request: RequestOf<"configure">, ctx: RequestContext): Promise<undefined> {
  // both may run a program (perl, date): side by side, they cost a restored VM one round
  await Promise.all([
    request.entropy !== undefined ? ctx.agent.addEntropy(Buffer.from(request.entropy, "base64")) : undefined,
    request.clockEpochMs !== undefined ? ctx.agent.setClock(request.clockEpochMs) : undefined,
  ]);
  if (request.hostname !== undefined) await ctx.agent.setHostname(request.hostname);
  if (request.trust !== undefined) await ctx.agent.applyTrust(request.trust);
  return undefined;
}

// Answers done first; the agent then exits (ending the workspace when it is PID 1).
export async function handleShutdown(_request: RequestOf<"shutdown">, ctx: RequestContext): Promise<undefined> {
  ctx.agent.requestShutdown();
  return undefined;
}
