// Memory snapshots of a running workspace VM (`ws snapshot --memory`): the machine is saved
// while it stands still, the engine snapshots its disk at that instant, and it runs on. The
// save is the template's (memory-snapshot.ts); what this adds is the agent's connection —
// closed first, so the saved agent waits for a new host exactly as a template's does and
// every fork starts like a template restore — and the refusal of machines with a NIC.
import { AgentisoError } from "../../core/errors.js";
import type { MemorySaveSteps } from "../workspace-runtime.js";
import { saveMemorySnapshot, type MemorySnapshotOptions } from "./memory-snapshot.js";
import type { QmpClient } from "./qmp-client.js";

const REOPEN_TIMEOUT_MS = 60_000;
const CONT_TIMEOUT_MS = 10_000;

// Saves the running machine behind qmp to memoryPath, runs steps.atSameInstant while it still
// stands still, then lets it run again (also when a step failed).
export async function saveRunningVm(
  qmp: QmpClient,
  workspaceId: string,
  memoryPath: string,
  steps: MemorySaveSteps,
  options: MemorySnapshotOptions & { signal: AbortSignal },
): Promise<{ sizeBytes: number; durationMs: number }> {
  await refuseNetworkDevice(qmp, workspaceId, options.signal);
  await detachAgentHost(qmp, steps.detachHost, options.signal);
  const cont = () => qmp.execute("cont", undefined, { timeoutMs: CONT_TIMEOUT_MS });
  let saved: { sizeBytes: number; durationMs: number };
  try {
    saved = await saveMemorySnapshot(qmp, memoryPath, options);
    await steps.atSameInstant();
  } catch (err) {
    await cont().catch(() => {});
    throw err;
  }
  // after a completed migration QEMU holds the disk inactive; `cont` takes it back
  await cont();
  return saved;
}

// A NIC's state (its MAC, the guest's connections) would be cloned into every fork, whose
// own NIC would then have another backend: not supported. virtio-net answers query-rx-filter.
async function refuseNetworkDevice(qmp: QmpClient, workspaceId: string, signal: AbortSignal): Promise<void> {
  const nics = await qmp.execute<Array<{ name: string }>>("query-rx-filter", undefined, { signal }).catch(() => []);
  if (nics.length === 0) return;
  throw new AgentisoError(
    "UNSUPPORTED",
    `vm workspace ${workspaceId} has a network device (${nics.map((n) => n.name).join(", ")}): its forks would share its MAC address and connections, so memory snapshots need a VM without one (network none); snapshot without memory instead`,
  );
}

// Closes the host's agent connection and waits until the guest's agent has its port open
// again with no host: the state a template is saved in, which every restore expects.
async function detachAgentHost(qmp: QmpClient, detachHost: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  const reopened = qmp.waitForEvent("VSERPORT_CHANGE", { predicate: (e) => e.data?.open === true, signal, timeoutMs: REOPEN_TIMEOUT_MS });
  reopened.catch(() => {});
  if (await detachHost()) return void (await reopened);
  // no host was connected: the agent's port is open unless it is between two sessions
  const chardevs = await qmp.execute<Array<{ label: string; "frontend-open"?: boolean }>>("query-chardev", undefined, { signal });
  if (chardevs.find((c) => c.label === "agent")?.["frontend-open"] !== true) await reopened;
}
