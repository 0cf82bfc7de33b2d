// Getting a worker ready for its task before the task's turn comes: fork from the golden,
// open the model tunnel, and in ONE exec create opencode's per-run dirs, pre-seed its plugin
// lockfile, record the baseline tree and find the opencode binary. Round trips to the guest
// cost a process spawn each, so they are batched or run side by side.
import { AgentisoError, toAgentisoError } from "../core/errors.js";
import type { GuestClient } from "../guest/guest-client.js";
import { guestCommandFailed, runChecked, shellQuote, type RunCheckedOptions } from "../guest/run-checked.js";
import { openLlmAccess, type WorkerLlmAccess } from "./llm-access.js";
import { buildOpencodeCommand, type OpencodeCommand } from "./opencode/opencode-command.js";
import { buildOpencodeConfig } from "./opencode/opencode-config.js";
import { GUEST_OPENCODE_PATHS } from "./opencode/golden-opencode.js";
import type { PlanTask } from "./plan.js";
import type { TaskRunContext } from "./task-run-context.js";

/** PATH for what runs in a worker: opencode and its tools, verify commands. */
export const GUEST_PATH = GUEST_OPENCODE_PATHS.searchPath;
const RUN_DIR = "/tmp/agentiso-opencode";
const SHARED_OPENCODE = GUEST_OPENCODE_PATHS.shared;
const NO_OPENCODE = "no-opencode";

/** A forked, running worker with everything in place to start `opencode run` at once. */
export interface PreparedWorker extends AsyncDisposable {
  name: string;
  guest: GuestClient;
  access: WorkerLlmAccess;
  command: OpencodeCommand;
  /** The same opencode run with another prompt (the integration's resolver and reviewer). */
  commandFor(prompt: string): OpencodeCommand;
  /** The worker's tree before the agent ran (git tree id): patches are taken against it. */
  baseline: string;
  forkMs: number;
  setupMs: number;
}

// The worker's deterministic name (tests and the CLI find a task's worker by it).
export function workerName(ctx: Pick<TaskRunContext, "workerPrefix">, task: Pick<PlanTask, "name">): string {
  return `${ctx.workerPrefix}-${task.name}`.slice(0, 63);
}

/** A prepared worker, or why there is none (worker: the name when one was forked and kept). */
export type Preparation = { ok: true; worker: PreparedWorker } | { ok: false; reason: string; worker?: string };

// Forks and sets up the task's worker. Never throws: a failure is a reason, and the half-made
// worker is destroyed unless the run keeps its workers.
export async function prepareWorker(ctx: TaskRunContext, task: PlanTask): Promise<Preparation> {
  const started = performance.now();
  const name = workerName(ctx, task);
  let forked: number | undefined;
  try {
    await ctx.engine.snapshots.fork(ctx.golden.workspace.id, {
      snapshot: ctx.golden.snapshot,
      name,
      memoryMiB: ctx.memoryMiB,
      cpus: ctx.cpus,
      network: ctx.network.mode,
      ...(ctx.network.mode === "allowlist" && { allowlist: { allow: ctx.network.allow, deny: ctx.network.deny } }),
      ...(ctx.owner !== undefined && { owner: ctx.owner }),
      signal: ctx.signal,
    });
    forked = performance.now();
    const ready = await setUp(ctx, task, name);
    return { ok: true, worker: { ...ready, forkMs: forked - started, setupMs: performance.now() - forked } };
  } catch (err) {
    const error = toAgentisoError(err);
    const kept = forked !== undefined && (ctx.keepWorkers || (await destroyWorker(ctx, name)) !== undefined);
    return { ok: false, reason: `${error.code}: ${error.message}`, ...(kept && { worker: name }) };
  }
}

async function setUp(ctx: TaskRunContext, task: PlanTask, name: string): Promise<Omit<PreparedWorker, "forkMs" | "setupMs">> {
  const guest = await ctx.engine.workspaces.guest(name, ctx.signal);
  const [access, layout] = await Promise.allSettled([
    openLlmAccess(guest, {
      proxy: ctx.proxy,
      taskId: task.name,
      key: ctx.key,
      ...(ctx.maxTokens !== undefined && { maxTokens: ctx.maxTokens }),
      signal: ctx.signal,
    }),
    layOut(guest, task.workdir, ctx.signal),
  ]);
  if (access.status === "rejected" || layout.status === "rejected") {
    if (access.status === "fulfilled") await access.value[Symbol.asyncDispose]();
    throw access.status === "rejected" ? access.reason : (layout as PromiseRejectedResult).reason;
  }
  const config = buildOpencodeConfig({
    provider: { kind: ctx.provider.kind, model: ctx.provider.model, baseUrl: access.value.baseUrl },
    key: ctx.key,
  });
  const commandFor = (prompt: string) => buildOpencodeCommand({ prompt, config, runDir: RUN_DIR, binary: layout.value.binary, baseEnv: { PATH: GUEST_PATH } });
  return { name, guest, access: access.value, command: commandFor(task.prompt), commandFor, baseline: layout.value.baseline, [Symbol.asyncDispose]: () => access.value[Symbol.asyncDispose]() };
}

// One exec: opencode's dirs and plugin lockfile, the baseline tree (index left as it was),
// and which opencode to run: the runtime's shared copy (one page cache for all workers) when
// it provides one, else the image's.
async function layOut(guest: GuestClient, workdir: string, signal: AbortSignal): Promise<{ baseline: string; binary: string }> {
  const layout = buildOpencodeCommand({ prompt: "", config: {}, runDir: RUN_DIR });
  const files = layout.files.map((f) => `printf %s ${shellQuote(f.content)} > ${shellQuote(f.path)}`);
  const script = [
    `mkdir -p ${layout.dirs.map(shellQuote).join(" ")}`,
    ...files,
    `if [ -x ${SHARED_OPENCODE} ]; then echo ${SHARED_OPENCODE}; elif (PATH=${GUEST_PATH}; command -v opencode); then :; else echo ${NO_OPENCODE}; fi`,
    "git add -A && git write-tree && git reset -q",
  ].join(" && ");
  const checked: RunCheckedOptions = { what: `worker setup in ${workdir}`, wording: "failed-exit", cwd: workdir, timeoutMs: 120_000, signal };
  const result = await runChecked(guest, { shell: script }, checked);
  const [binary, baseline] = result.stdout.trim().split("\n");
  if (!binary || !baseline) throw guestCommandFailed({ shell: script }, result, checked);
  if (binary === NO_OPENCODE) throw new AgentisoError("INVALID_STATE", "this worker has no opencode: its golden's image has none and the runtime shares none (a golden the orchestrator builds gets the pinned one layered in; a reused golden must have been built from the opencode image or have it installed)");
  return { binary, baseline };
}

// Destroys a worker; resolves with why it could not (undefined when it is gone).
export async function destroyWorker(ctx: Pick<TaskRunContext, "engine" | "logger">, name: string): Promise<string | undefined> {
  try {
    await ctx.engine.workspaces.destroy(name);
    return undefined;
  } catch (err) {
    const error = toAgentisoError(err);
    if (error.code === "NOT_FOUND") return undefined;
    ctx.logger.warn("worker destroy failed", { worker: name, err });
    return `${error.code}: ${error.message}`;
  }
}
