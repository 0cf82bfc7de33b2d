// How a worker reaches the model. In both modes opencode talks to http://127.0.0.1:PORT inside
// the worker; the guest agent carries each connection to the host, where the proxy forwards it
// to the one configured provider and meters the task's tokens.
//   proxy (default): the proxy adds the key; the worker never holds it.
//   env (the seed's SetEnv): the key is injected with set_env (agent memory only) and opencode
//   sends it itself; the proxy replaces it with the same key, so nothing else changes.
import type { LlmProxy, ProxyTask } from "../llm/proxy.js";
import type { TaskUsage } from "../llm/task-spend.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { GuestPortForward } from "../guest/client-types.js";
import type { KeyDelivery } from "./key-delivery.js";

export interface WorkerLlmAccess extends AsyncDisposable {
  /** What the worker's opencode config uses as the provider baseURL. */
  baseUrl: string;
  usage(): TaskUsage;
  /** Upstream 429/503 answers the task's requests got (the proxy waited them out or passed them on). */
  throttled(): number;
}

export interface LlmAccessOptions {
  proxy: LlmProxy;
  taskId: string;
  /** env delivery: the key is set in the agent's environment under its variable. */
  key: KeyDelivery;
  maxTokens?: number;
  signal?: AbortSignal;
}

// Opens the tunnel (and injects the key in env mode); dispose closes both.
export async function openLlmAccess(guest: GuestClient, options: LlmAccessOptions): Promise<WorkerLlmAccess> {
  const task: ProxyTask = options.proxy.forTask(options.taskId, options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens });
  let forward: GuestPortForward | undefined;
  try {
    forward = await guest.forwardGuestPort(0, (socket) => task.handleConnection(socket), options.signal ? { signal: options.signal } : {});
    if (options.key.mode === "env") await guest.setEnv({ [options.key.envVar]: options.key.value }, options.signal ? { signal: options.signal } : {});
  } catch (err) {
    await forward?.close();
    await task.close();
    throw err;
  }
  const close = async () => {
    await forward?.close().catch(() => {});
    await task.close();
  };
  return {
    baseUrl: `http://127.0.0.1:${forward.port}${task.basePath}`,
    usage: () => task.usage(),
    throttled: () => task.throttled(),
    close,
    [Symbol.asyncDispose]: close,
  } as WorkerLlmAccess & { close(): Promise<void> };
}
