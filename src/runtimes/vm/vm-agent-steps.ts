// The steps of a VM's life that talk to its guest agent: resume a cold machine until the agent
// opens its port, warm the agent up before a template is saved, and ask it to power the guest
// off. Each takes the machine's QMP client or paths; none keeps state.
import { randomBytes } from "node:crypto";
import { AgentisoError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { waitForExit } from "../../core/process-state.js";
import { readTail } from "../../core/read-tail.js";
import { GuestClient, connectUnix } from "../../guest/index.js";
import type { QmpClient } from "./qmp-client.js";
import type { VmPaths } from "./vm-paths.js";

export interface AgentStepOptions {
  signal: AbortSignal;
  timeoutMs: number;
}

// Resumes a cold machine and waits until the agent opens its virtio-serial port, or QEMU ends.
export async function bootUntilAgent(qmp: QmpClient, workspaceId: string, paths: VmPaths, options: AgentStepOptions & { logger: Logger }): Promise<void> {
  const { signal } = options;
  const agentOpened = qmp.waitForEvent("VSERPORT_CHANGE", { predicate: (e) => e.data?.open === true, signal, timeoutMs: options.timeoutMs });
  agentOpened.catch(() => {});
  try {
    await qmp.execute("cont", {}, { signal });
    await agentOpened;
  } catch (err) {
    if (!qmp.hasClosed) throw err;
    // QEMU ended: the guest powered off (an /init failure) or QEMU was killed (its cgroup's OOM killer)
    const console = (await readTail(paths.consoleLog, 1500)).trim();
    throw new AgentisoError("BACKEND_FAILED", `vm workspace ${workspaceId} ended while booting (see its console; an out-of-memory kill of QEMU shows in the host's dmesg): ${console}`);
  }
  options.logger.debug("vm agent opened its port", { workspace: workspaceId });
}

// Runs what every restored workspace will run first (hello, configure, exec, a file stat), so
// the saved machine holds an agent whose code V8 has already compiled and whose programs are
// in the page cache: a restore then pays TCG's retranslation only. Ends with the agent's
// port open again, no host connected: the state every restore starts from.
export async function warmUpAgent(qmp: QmpClient, paths: VmPaths, options: AgentStepOptions): Promise<void> {
  const { signal } = options;
  const client = new GuestClient({ connect: connectUnix(paths.agentSocket), connectTimeoutMs: options.timeoutMs });
  try {
    await client.connect({ signal });
    await client.configure({ hostname: "agentiso", clockEpochMs: Date.now(), entropy: randomBytes(64) }, { signal });
    for (const argv of [["true"], ["sh", "-c", "git --version >/dev/null 2>&1; true"]]) await client.exec({ argv }, { signal });
    await client.stat("/", { signal });
  } finally {
    const reopened = qmp.waitForEvent("VSERPORT_CHANGE", { predicate: (e) => e.data?.open === true, signal, timeoutMs: 60_000 });
    reopened.catch(() => {});
    await client.close();
    await reopened;
  }
}

// The agent's `shutdown` makes the guest init sync its disk and power off; true once QEMU exited.
export async function guestShutdown(paths: VmPaths, pid: number, timeoutMs: number): Promise<boolean> {
  const client = new GuestClient({ connect: connectUnix(paths.agentSocket), connectTimeoutMs: Math.min(timeoutMs, 5_000) });
  try {
    await client.shutdown({ signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    // the agent may exit before it answers; the pid tells
  } finally {
    await client.close().catch(() => {});
  }
  return waitForExit(pid, timeoutMs);
}
