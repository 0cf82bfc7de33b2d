// What every step of a task (prepare the worker, run opencode, collect, destroy) is handed: the
// run's settings and services, built once by the orchestrator. Its own module so the steps
// (worker-prep.ts, task-runner.ts) depend on it and not on each other.
import type { Logger } from "../core/logger.js";
import type { NetworkPolicy } from "../core/network-allowlist.js";
import type { GoldenWorkspace } from "../domain/golden-workspace.js";
import type { Engine } from "../engine/engine.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { LlmProxy } from "../llm/proxy.js";
import type { KeyDelivery } from "./key-delivery.js";
import type { OpencodeProviderKind } from "./opencode/opencode-config.js";
import type { ProgressEvent } from "./task-result.js";

export interface TaskRunContext {
  engine: Engine<GuestClient>;
  golden: GoldenWorkspace;
  proxy: LlmProxy;
  provider: { kind: OpencodeProviderKind; model: string };
  /** How the key reaches each worker's opencode. */
  key: KeyDelivery;
  maxTokens?: number;
  timeoutMs: number;
  /** A run that prints no opencode event for this long is stopped as stalled ([run] stall_timeout). */
  stallTimeoutMs: number;
  memoryMiB: number;
  cpus: number;
  /** Each worker's network policy ([run] network; default none). */
  network: NetworkPolicy;
  workerPrefix: string;
  keepWorkers: boolean;
  owner?: string;
  logger: Logger;
  signal: AbortSignal;
  progress: (event: ProgressEvent) => void;
  /** Bytes taken from a worker: opencode's stdout and the patch (TOO_LARGE past them). */
  caps: { agentOutputBytes: number; patchBytes: number };
  /** Raw opencode events of the task (NDJSON lines), for the results dir. */
  onEvents?: (task: string, ndjson: string) => void;
  /** The plan's [run] verify settings; absent or no commands: a finished agent is success. */
  verify?: VerifySettings;
}

export interface VerifySettings {
  commands: string[];
  retries: number;
  /** Per command. */
  timeoutMs: number;
}
