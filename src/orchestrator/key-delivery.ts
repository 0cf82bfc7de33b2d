// How the model key reaches a worker's opencode, decided once from the plan and handed down
// unchanged to the model tunnel (llm-access.ts) and opencode's config. Plan key_mode "proxy"
// is keyless delivery: the worker holds a placeholder, the host proxy adds the real key.
// key_mode "env" puts the key itself into the agent's environment (set_env) and the config
// reads it from there; such a delivery cannot be made without the key.
import type { Plan } from "./plan.js";

export type KeyDelivery = { mode: "keyless" } | EnvKeyDelivery;

export interface EnvKeyDelivery {
  mode: "env";
  /** The variable opencode's config reads the key from ({env:NAME}). */
  envVar: string;
  value: string;
}

/** What opencode's config says of a delivery: the variable's name, never the key. */
export type KeyInConfig = { mode: "keyless" } | Omit<EnvKeyDelivery, "value">;

// env mode with the caller's key in the plan's variable; anything else (proxy mode, or a stub
// model run without a key) is keyless.
export function keyDeliveryFor(model: Pick<Plan["model"], "key_mode" | "api_key_env">, apiKey: string | undefined): KeyDelivery {
  if (model.key_mode !== "env" || !apiKey || !model.api_key_env) return { mode: "keyless" };
  return { mode: "env", envVar: model.api_key_env, value: apiKey };
}
