// Pausing a microVM: QMP `stop` halts its vCPUs (the guest runs nothing, its memory stays in
// QEMU) and `cont` lets them run again. QEMU keeps the state across daemon restarts, and
// `query-status` tells a new daemon which machines are paused. Each call is one short QMP
// session: the runtime holds no monitor connection between starts.
import { QmpClient } from "./qmp-client.js";

const QMP_TIMEOUT_MS = 10_000;

// Stops the machine's vCPUs.
export async function pauseVm(qmpSocket: string): Promise<void> {
  await using qmp = await QmpClient.connect(qmpSocket, { timeoutMs: QMP_TIMEOUT_MS });
  await qmp.execute("stop", undefined, { timeoutMs: QMP_TIMEOUT_MS });
}

// Lets a paused machine run again.
export async function resumeVm(qmpSocket: string): Promise<void> {
  await using qmp = await QmpClient.connect(qmpSocket, { timeoutMs: QMP_TIMEOUT_MS });
  await qmp.execute("cont", undefined, { timeoutMs: QMP_TIMEOUT_MS });
}

// True when someone paused the machine (`stop`); a machine still waiting for its first `cont` is not "paused".
export async function vmPaused(qmpSocket: string): Promise<boolean> {
  await using qmp = await QmpClient.connect(qmpSocket, { timeoutMs: QMP_TIMEOUT_MS });
  const status = await qmp.execute<{ status?: string }>("query-status", undefined, { timeoutMs: QMP_TIMEOUT_MS });
  return status.status === "paused";
}
