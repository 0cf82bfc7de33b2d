// One task in one worker: fork from golden, give it the model, run `opencode run --format json`,
// collect outcome, tokens and the patch, destroy the worker. Every failure becomes a result
// with a reason; nothing here throws past the task.
import { toAgentisoError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Engine } from "../engine/engine.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { LlmProxy } from "../llm/proxy.js";
import { totalTokens, zeroUsage } from "../llm/token-usage.js";
import type { GoldenWorkspace } from "./golden.js";
import { openLlmAccess } from "./llm-access.js";
import { buildOpencodeCommand } from "./opencode/opencode-command.js";
import { buildOpencodeConfig, type OpencodeProviderKind } from "./opencode/opencode-config.js";
import { OpencodeEventParser } from "./opencode/parse-events.js";
import { judgeOpencodeRun } from "./opencode/run-outcome.js";
import { collectChanges, snapshotTree } from "./collect-changes.js";
import type { PlanTask } from "./plan.js";
import type { ProgressEvent, TaskResult } from "./task-result.js";

const GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const RUN_DIR = "/tmp/agentiso-opencode";
const SHARED_OPENCODE = "/.agentiso/bin/opencode";

export interface TaskRunContext {
  engine: Engine<GuestClient>;
  golden: GoldenWorkspace;
  proxy: LlmProxy;
  provider: { kind: OpencodeProviderKind; model: string };
  keyMode: "proxy" | "env";
  key?: { envVar: string; value: string };
  maxTokens?: number;
  timeoutMs: number;
  memoryMiB: number;
  cpus: number;
  workerPrefix: string;
  keepWorkers: boolean;
  owner?: string;
  logger: Logger;
  signal: AbortSignal;
  progress: (event: ProgressEvent) => void;
  /** Raw opencode events of the task (NDJSON lines), for the results dir. */
  onEvents?: (task: string, ndjson: string) => void;
}

// Runs a task to a result; the worker is destroyed afterwards unless keepWorkers.
export async function runTask(ctx: TaskRunContext, task: PlanTask): Promise<TaskResult> {
  const started = performance.now();
  let worker: string | undefined;
  try {
    ctx.progress({ type: "task_state", task: task.name, state: "forking" });
    const [record] = await ctx.engine.snapshots.fork(ctx.golden.workspace.id, {
      snapshot: ctx.golden.snapshot,
      name: `${ctx.workerPrefix}-${task.name}`.slice(0, 63),
      memoryMiB: ctx.memoryMiB,
      cpus: ctx.cpus,
      network: "none",
      ...(ctx.owner !== undefined && { owner: ctx.owner }),
      signal: ctx.signal,
    });
    worker = record!.name;
    return await runInWorker(ctx, task, worker, started);
  } catch (err) {
    const error = toAgentisoError(err);
    return errorResult(task, worker, `${error.code}: ${error.message}`, performance.now() - started);
  } finally {
    if (worker !== undefined && !ctx.keepWorkers) {
      await ctx.engine.workspaces.destroy(worker).catch((err: unknown) => ctx.logger.warn("worker destroy failed", { worker, err }));
    }
  }
}

async function runInWorker(ctx: TaskRunContext, task: PlanTask, worker: string, started: number): Promise<TaskResult> {
  const guest = await ctx.engine.workspaces.guest(worker, ctx.signal);
  await using access = await openLlmAccess(guest, {
    proxy: ctx.proxy,
    taskId: task.name,
    keyMode: ctx.keyMode,
    ...(ctx.key && { key: ctx.key }),
    ...(ctx.maxTokens !== undefined && { maxTokens: ctx.maxTokens }),
    signal: ctx.signal,
  });
  const config = buildOpencodeConfig({
    provider: { kind: ctx.provider.kind, model: ctx.provider.model, baseUrl: access.baseUrl },
    key: access.keyEnvVar ? { mode: "env", envVar: access.keyEnvVar } : { mode: "keyless" },
  });
  const binary = await opencodeBinaryIn(guest, ctx.signal);
  const command = buildOpencodeCommand({ prompt: task.prompt, config, runDir: RUN_DIR, binary, baseEnv: { PATH: GUEST_PATH } });
  for (const dir of command.dirs) await guest.mkdir(dir, { recursive: true }, { signal: ctx.signal });
  for (const file of command.files) await guest.writeFile(file.path, file.content, { createDirs: true }, { signal: ctx.signal });

  const baseline = await snapshotTree(guest, task.workdir, ctx.signal);
  ctx.progress({ type: "task_state", task: task.name, state: "running", worker });
  const parser = new OpencodeEventParser();
  let stderr = "";
  let raw = "";
  const stream = guest.execStream({ argv: command.argv, env: command.env, cwd: task.workdir, commandTimeoutMs: ctx.timeoutMs }, { signal: ctx.signal });
  for await (const chunk of stream) {
    if (chunk.fd === 1) {
      raw += chunk.data.toString("utf8");
      if (parser.push(chunk.data).some((e) => e.type === "step_finish")) {
        ctx.progress({ type: "task_state", task: task.name, state: "running", worker, tokens: totalTokens(access.usage().tokens) });
      }
    } else {
      stderr = (stderr + chunk.data.toString("utf8")).slice(-8192);
    }
  }
  const exec = await stream.result;
  ctx.onEvents?.(task.name, raw);
  ctx.progress({ type: "task_state", task: task.name, state: "collecting", worker });
  const changes = await collectChanges(guest, task.workdir, baseline, ctx.signal);
  const judged = judgeOpencodeRun(parser.end(), {
    exitCode: exec.exitCode,
    signal: exec.signal,
    timedOut: exec.timedOut,
    filesChanged: changes.files.length > 0,
    durationMs: Math.round(exec.durationMs),
    stderrTail: stderr.slice(-2000),
  });
  const usage = access.usage();
  return {
    name: task.name,
    status: judged.status,
    reason: judged.reason,
    summary: judged.finalText,
    toolCalls: judged.toolCalls.map((c) => ({ tool: c.tool, status: c.status, ...(c.title && { title: c.title }), ...(c.error && { error: c.error }) })),
    tokens: usage.tokens,
    opencodeTokens: judged.tokens,
    costUsd: usage.costUsd || judged.costUsd,
    durationMs: Math.round(performance.now() - started),
    filesChanged: changes.files,
    patch: changes.patch,
    worker,
    exitCode: judged.exitCode,
    steps: judged.steps,
    ...(judged.sessionId !== undefined && { sessionId: judged.sessionId }),
  };
}

// The runtime's shared copy (one page cache for all workers) when it provides one, else the image's.
async function opencodeBinaryIn(guest: GuestClient, signal: AbortSignal): Promise<string> {
  const shared = await guest.stat(SHARED_OPENCODE, { signal }).catch(() => undefined);
  return shared ? SHARED_OPENCODE : "opencode";
}

// The result of a task that never produced one of its own (cancelled, crashed, daemon gone).
export function errorResult(task: Pick<PlanTask, "name">, worker: string | undefined, reason: string, durationMs: number): TaskResult {
  return {
    name: task.name,
    status: "error",
    reason,
    summary: "",
    toolCalls: [],
    tokens: zeroUsage(),
    opencodeTokens: { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 },
    costUsd: 0,
    durationMs: Math.round(durationMs),
    filesChanged: [],
    patch: "",
    ...(worker !== undefined && { worker }),
    exitCode: null,
    steps: 0,
  };
}
