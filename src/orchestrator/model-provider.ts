// Resolves the plan's [model] into the provider the proxy forwards to: a real one (key from
// the caller), or the stub model started here when the plan names none.
import { AgentisoError } from "../core/errors.js";
import type { HostPaths } from "../core/host-paths.js";
import type { Logger } from "../core/logger.js";
import type { LlmProviderConfig } from "../llm/provider.js";
import { startStubServer, type StubServer } from "../llm/stub-server.js";
import { parseStubScript, type StubScript } from "../llm/stub-script.js";
import { demoStubScript } from "./demo-script.js";
import { demoPlannerScript } from "./demo-planner-script.js";
import type { OpencodeProviderKind } from "./opencode/opencode-config.js";
import type { Plan } from "./plan.js";

export interface ResolvedModel extends AsyncDisposable {
  provider: LlmProviderConfig;
  opencode: { kind: OpencodeProviderKind; model: string };
  /** Set when the stub model runs for this orchestration. */
  stub?: StubServer;
}

export const DEFAULT_BASE_URLS: Record<string, string | undefined> = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com/v1",
};

/** A stub script is a small JSON file: anything bigger is refused before it is read. */
export const MAX_STUB_SCRIPT_BYTES = 4 * 1024 * 1024;

// apiKey: the value of the plan's api_key_env, read by the caller from ITS environment.
// hostPaths: how stub_script is read (a bounded read, confined to the session's directory for MCP).
// planning: a free-text task, which the shipped stub plans too (demo-planner-script.ts).
export async function resolveModel(plan: Plan, apiKey: string | undefined, logger: Logger, hostPaths: HostPaths, planning?: { task: string; maxTasks: number }): Promise<ResolvedModel> {
  const model = plan.model;
  if (model.provider === "stub") {
    const script = model.stub_script ? await readStubScript(hostPaths, model.stub_script) : planning ? demoPlannerScript(planning.task, planning.maxTasks) : demoStubScript(plan.task);
    const stub = await startStubServer({ script, logger: logger.child({ component: "llm-stub" }) });
    return {
      provider: { kind: "openai-compatible", baseUrl: stub.url, apiKey: "agentiso-stub-key" },
      opencode: { kind: "openai-compatible", model: model.model },
      stub,
      [Symbol.asyncDispose]: () => stub.close(),
    };
  }
  if (!apiKey) {
    throw new AgentisoError("INVALID_INPUT", `the plan's model needs a key: set the environment variable ${model.api_key_env} where you run agentiso orchestrate`);
  }
  const baseUrl = model.base_url ?? DEFAULT_BASE_URLS[model.provider];
  if (!baseUrl) throw new AgentisoError("INVALID_INPUT", `model.base_url is required for provider ${model.provider}`);
  return {
    provider: { kind: model.provider, baseUrl, apiKey },
    opencode: { kind: model.provider, model: model.model },
    [Symbol.asyncDispose]: async () => {},
  };
}

async function readStubScript(hostPaths: HostPaths, path: string): Promise<StubScript> {
  const text = (await hostPaths.readFile(path, { maxBytes: MAX_STUB_SCRIPT_BYTES, what: "stub script" })).toString("utf8");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AgentisoError("INVALID_INPUT", `stub script ${path} is not valid JSON`, { cause: err });
  }
  return parseStubScript(raw);
}
