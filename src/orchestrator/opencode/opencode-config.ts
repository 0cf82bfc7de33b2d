// The inline config (OPENCODE_CONFIG_CONTENT) a worker's opencode runs with: one provider
// and model, no autoupdate or sharing, optional MCP servers, and permissions chosen so a
// headless run never waits for a human. In `opencode run` an "ask" is auto-rejected and
// ends the run, so nothing here is "ask": each rule is allow or deny (see docs/llm.md).
import type { KeyInConfig } from "../key-delivery.js";

export type OpencodeProviderKind = "openai-compatible" | "openai" | "anthropic";
export type PermissionAction = "allow" | "deny";

export interface OpencodeProviderSpec {
  kind: OpencodeProviderKind;
  /** Where the worker reaches the model: the provider itself, the stub, or the keyless proxy's URL. */
  baseUrl?: string;
  /** Model id at the provider, e.g. gpt-4.1, claude-sonnet-4-5, stub-model. */
  model: string;
  /** Provider id inside opencode for openai-compatible; default "agentiso". */
  id?: string;
}

export interface OpencodeMcpServer {
  command: string[];
  environment?: Record<string, string>;
}

export interface OpencodeConfigInput {
  provider: OpencodeProviderSpec;
  /**
   * How opencode gets the key (a KeyDelivery fits): `env` reads it from this env var at start
   * (the set_env way); `keyless` gives it a placeholder the proxy throws away (the key never
   * enters the workspace).
   */
  key: KeyInConfig;
  /** Per-permission overrides of HEADLESS_PERMISSIONS. */
  permissions?: Record<string, PermissionAction | Record<string, PermissionAction>>;
  mcp?: Record<string, OpencodeMcpServer>;
}

export const KEYLESS_PLACEHOLDER_KEY = "agentiso-keyless";

/** Edits and shell inside the workspace are the job; the web and paths outside it are not. */
export const HEADLESS_PERMISSIONS: Record<string, PermissionAction | Record<string, PermissionAction>> = {
  "*": "allow",
  read: "allow", // the default asks for *.env files, which a headless run would reject
  edit: "allow",
  bash: "allow",
  external_directory: { "*": "deny", "/tmp/*": "allow" },
  webfetch: "deny",
  websearch: "deny",
  question: "deny",
  doom_loop: "deny", // the default asks after 3 identical calls; deny stops the loop instead of the run
};

// Builds the config object; serialise it with JSON.stringify for OPENCODE_CONFIG_CONTENT.
export function buildOpencodeConfig(input: OpencodeConfigInput): Record<string, unknown> {
  const { providerId, provider } = providerSection(input);
  const model = `${providerId}/${input.provider.model}`;
  const config: Record<string, unknown> = {
    $schema: "https://opencode.ai/config.json",
    autoupdate: false,
    share: "disabled",
    provider: { [providerId]: provider },
    model,
    small_model: model, // title generation uses the same model, so it goes through the same route
    permission: { ...HEADLESS_PERMISSIONS, ...input.permissions },
  };
  if (input.mcp && Object.keys(input.mcp).length) {
    config.mcp = Object.fromEntries(
      Object.entries(input.mcp).map(([name, server]) => [name, { type: "local", command: server.command, enabled: true, ...(server.environment ? { environment: server.environment } : {}) }]),
    );
  }
  return config;
}

function providerSection(input: OpencodeConfigInput): { providerId: string; provider: Record<string, unknown> } {
  const spec = input.provider;
  // opencode substitutes {env:NAME} in config text when it loads it
  const apiKey = input.key.mode === "env" ? `{env:${input.key.envVar}}` : KEYLESS_PLACEHOLDER_KEY;
  const options = { apiKey, ...(spec.baseUrl ? { baseURL: spec.baseUrl } : {}) };
  // listing the model makes it known even with OPENCODE_DISABLE_MODELS_FETCH=1 and an old catalogue
  const models = { [spec.model]: { name: spec.model } };
  if (spec.kind === "openai-compatible") {
    const providerId = spec.id ?? "agentiso";
    return { providerId, provider: { npm: "@ai-sdk/openai-compatible", name: providerId, options, models } };
  }
  return { providerId: spec.kind, provider: { options, models } };
}
