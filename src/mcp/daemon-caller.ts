// The ToolCaller of `agentiso serve`: forwards each call to the daemon over the control socket.
// The daemon is started lazily on the first call, and started again when it went away between
// calls (`agentiso daemon stop`, an upgrade): a refused connection means the call never
// reached a daemon, so sending it again is safe.
import type { ApiClient } from "../api/api-client.js";
import { isAgentisoError } from "../core/errors.js";
import type { ToolCallOptions, ToolCaller } from "./tool-caller.js";

const NEVER_ARRIVED = new Set(["ECONNREFUSED", "ENOENT"]);

// connect() returns a client of a running daemon, starting one if needed.
export function daemonCaller(connect: () => Promise<ApiClient>): ToolCaller {
  let client: Promise<ApiClient> | undefined;
  const connected = () => (client ??= connect().catch((err: unknown) => ((client = undefined), Promise.reject(err))));
  const send = async (name: string, args: Record<string, unknown>, { signal, progress }: ToolCallOptions) => {
    const api = await connected();
    return progress ? api.callStreaming(name, args, progress, { signal }) : api.call(name, args, { signal });
  };
  return async (name, args, options) => {
    try {
      return await send(name, args, options);
    } catch (err) {
      if (!neverArrived(err)) throw err;
      client = undefined;
      return send(name, args, options);
    }
  };
}

function neverArrived(err: unknown): boolean {
  if (!isAgentisoError(err, "BACKEND_FAILED")) return false;
  const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && NEVER_ARRIVED.has(code);
}
