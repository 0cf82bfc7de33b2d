// Memory snapshots of a microVM: QEMU's migration stream (all device state + RAM, zero pages
// as flags) saved to a file, and loaded into a fresh QEMU started with `-incoming defer`.
// This is what makes template restores sub-second: no kernel boot, no agent start.
// QEMU 7.2 has no `file:` URI (8.2) and no `mapped-ram` (9.0); `x-ignore-shared` exists but
// needs guest RAM in a shared memory-backend-file, which templates would then have to copy.
import { rename, rm, stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { performance } from "node:perf_hooks";
import { AgentisoError } from "../../core/errors.js";
import { withDeadline } from "../../core/deadline.js";
import type { QmpClient, QmpEvent } from "./qmp-client.js";
import { listenToFile, migrationSocket, streamFileTo, type SocketOwner } from "./qmp-migration-stream.js";

export interface MemorySnapshotOptions {
  signal?: AbortSignal;
  /** Default 120 s: a 512 MiB guest under TCG needs a few seconds. */
  timeoutMs?: number;
  /** The uid:gid QEMU dropped to (-runas): it must reach the migration socket. */
  qemuUser?: SocketOwner;
}

const DEFAULT_TIMEOUT_MS = 120_000;
// QEMU 7.2 throttles migration to 32 MiB/s by default; a paused VM gains nothing from that.
const UNTHROTTLED_BYTES_PER_SECOND = 2 ** 40;
const TERMINAL_STATUSES = new Set(["completed", "failed", "cancelled"]);

// Pauses the VM and writes its whole device+memory state to `path`; the VM stays paused
// (caller decides: quit or cont). The file appears only complete (written aside, renamed).
export async function saveMemorySnapshot(qmp: QmpClient, path: string, options: MemorySnapshotOptions = {}): Promise<{ sizeBytes: number; durationMs: number }> {
  assertAbsolute(path);
  const signal = withDeadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal);
  const started = performance.now();
  const partial = `${path}.partial-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await using socket = await migrationSocket(options.qemuUser);
  const sink = await listenToFile(socket.path, partial, signal, options.qemuUser);
  try {
    await qmp.execute("stop", undefined, { signal });
    await prepareMigration(qmp, signal);
    const finished = migrationFinished(qmp, signal);
    await qmp.execute("migrate", { uri: socket.uri }, { signal });
    await expectCompleted(qmp, await finished, "saving memory snapshot", signal);
    const sizeBytes = await sink.done;
    await rename(partial, path);
    return { sizeBytes, durationMs: performance.now() - started };
  } catch (err) {
    await qmp.execute("migrate_cancel", undefined, { timeoutMs: 5_000 }).catch(() => {});
    await rm(partial, { force: true });
    throw err;
  } finally {
    sink.close();
  }
}

// On a QEMU started with `-incoming defer`: loads the state from `path` and resumes the guest.
export async function restoreMemorySnapshot(qmp: QmpClient, path: string, options: MemorySnapshotOptions = {}): Promise<{ durationMs: number }> {
  assertAbsolute(path);
  await stat(path).catch((err: unknown) => {
    throw new AgentisoError("NOT_FOUND", `memory snapshot ${path} does not exist`, { cause: err });
  });
  const signal = withDeadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal);
  const started = performance.now();
  await using socket = await migrationSocket(options.qemuUser);
  await prepareMigration(qmp, signal);
  const finished = migrationFinished(qmp, signal);
  await qmp.execute("migrate-incoming", { uri: socket.uri }, { signal });
  const stopStreaming = new AbortController();
  const streamed = streamFileTo(socket.path, path, AbortSignal.any([signal, stopStreaming.signal])).then(() => undefined, (err: unknown) => err);
  const event = await finished;
  // once QEMU has the state, the unread trailer does not matter: stop at once
  const cause = event.data?.status === "completed" ? void stopStreaming.abort() : await streamed;
  await expectCompleted(qmp, event, "restoring memory snapshot", signal, cause);
  await resume(qmp, signal);
  return { durationMs: performance.now() - started };
}

// MIGRATION events tell us when it ends (no polling), and no bandwidth cap slows a paused VM.
async function prepareMigration(qmp: QmpClient, signal: AbortSignal): Promise<void> {
  await qmp.execute("migrate-set-capabilities", { capabilities: [{ capability: "events", state: true }] }, { signal });
  await qmp.execute("migrate-set-parameters", { "max-bandwidth": UNTHROTTLED_BYTES_PER_SECOND }, { signal });
}

function migrationFinished(qmp: QmpClient, signal: AbortSignal): Promise<QmpEvent> {
  const waiting = qmp.waitForEvent("MIGRATION", { signal, predicate: (e) => TERMINAL_STATUSES.has(String(e.data?.status)) });
  waiting.catch(() => {}); // awaited later; a failure before then must not be unhandled
  return waiting;
}

// `cause` is our side's stream error, if any: it explains a failure but never makes one.
async function expectCompleted(qmp: QmpClient, event: QmpEvent, what: string, signal: AbortSignal, cause?: unknown): Promise<void> {
  const status = String(event.data?.status);
  if (status === "completed") return;
  const info = await qmp.execute<{ "error-desc"?: string }>("query-migrate", undefined, { signal }).catch(() => ({}) as { "error-desc"?: string });
  const why = info["error-desc"] ?? (cause instanceof Error ? cause.message : undefined);
  throw new AgentisoError("BACKEND_FAILED", `${what}: QEMU migration ${status}${why ? `: ${why}` : ""}`, {
    cause,
    details: { migrationStatus: status },
  });
}

// A QEMU started without -S runs by itself once the state is in; with -S it waits for `cont`.
async function resume(qmp: QmpClient, signal: AbortSignal): Promise<void> {
  const before = await qmp.execute<{ status: string; running: boolean }>("query-status", undefined, { signal });
  if (!before.running) await qmp.execute("cont", undefined, { signal });
  const after = await qmp.execute<{ status: string; running: boolean }>("query-status", undefined, { signal });
  if (!after.running) {
    throw new AgentisoError("BACKEND_FAILED", `restored VM did not resume: QEMU reports status ${after.status}`);
  }
}

function assertAbsolute(path: string): void {
  if (!isAbsolute(path)) throw new AgentisoError("INVALID_INPUT", `memory snapshot path must be absolute, got ${JSON.stringify(path)}`);
}
