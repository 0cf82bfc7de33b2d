// One attempt to start a workspace's container, in two parts. launch: the bundle and
// `<oci runtime> run` — the workspace runs when it resolves, as a container does when
// `podman run -d` returns. readiness: its network, and its agent's first listen (node takes
// ~30–50 ms to start here), run while the caller already hears back; nothing in the workspace
// runs but tini and the agent until the host asks the agent, which waits for readiness.
import { AgentisoError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { isRunning } from "../../core/process-state.js";
import type { WorkspaceNetwork } from "../../net/workspace-network.js";
import type { RuntimeStartSpec } from "../workspace-runtime.js";
import type { BundleWriter } from "./container-bundle.js";
import type { HostNode } from "./host-node-picker.js";
import type { OciRuntimes } from "./oci-runtimes.js";
import { linkEndpoint, type RunDirPaths } from "./run-dir.js";
import { waitForSocket } from "./wait-for-socket.js";

export interface LaunchDeps {
  bundles: BundleWriter;
  oci: OciRuntimes;
  network: WorkspaceNetwork;
  /** Host uid of the workspace's root: the endpoint link must be its socket. */
  shiftedRoot: number;
  logger: Logger;
  /** The workspace's console log, for a start that failed. */
  logs(workspaceId: string): Promise<string>;
}

export interface Launched {
  pid: number;
  paths: RunDirPaths;
  /** Resolves once the network is set and the agent's endpoint accepts connections. */
  untilReady(): Promise<void>;
}

export async function launchContainer(deps: LaunchDeps, spec: RuntimeStartSpec, name: string, hostNode: HostNode | undefined, signal: AbortSignal): Promise<Launched> {
  const started = performance.now();
  const paths = await deps.bundles.write(spec, name, hostNode);
  // the runtime's shell names the network namespace too (one spawn); the agent starts meanwhile.
  // A workspace without a network gets the name when it first needs one (setNetwork): one `ip` fewer per start.
  const oci = await deps.oci.forNew();
  const netnsName = spec.network === "none" ? undefined : name;
  const { pid, attachError } = await oci.runDetached(name, paths.bundle, paths.consoleLog, { signal, ...(netnsName && { netnsName }) });
  const ociMs = performance.now() - started;
  // an init that dies at once (a host node that cannot run here) also fails the netns attach: say so
  const exitedAtStart = async (err?: unknown): Promise<never> => {
    if (err !== undefined && (await isRunning(pid))) throw err;
    throw new AgentisoError("GUEST_UNREACHABLE", `workspace ${spec.workspaceId} exited at start: ${await deps.logs(spec.workspaceId)}`);
  };
  if (attachError) await exitedAtStart(attachError);
  if (!(await isRunning(pid))) await exitedAtStart();
  const untilReady = async () => {
    const network = spec.network === "none" ? undefined : deps.network.setMode(name, spec.networkPolicy ?? spec.network, paths.slirpLog).catch(exitedAtStart);
    await Promise.all([network, waitForSocket(paths.socket, () => isRunning(pid), signal)]);
    await linkEndpoint(paths, deps.shiftedRoot);
    const timings = { oci: oci.name, ociMs: Math.round(ociMs), readyMs: Math.round(performance.now() - started) };
    deps.logger.info("workspace container started", { workspace: spec.workspaceId, pid, network: spec.network, hostNode: hostNode !== undefined, snapshot: hostNode?.snapshot !== undefined, ...timings });
  };
  return { pid, paths, untilReady };
}
