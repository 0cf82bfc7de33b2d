// A ContainerRuntime over a fresh state dir for one test file, with helpers to start
// workspaces on overlay rootfs and a leak check that names whatever was left behind:
// OCI containers, cgroups, network namespaces, slirp4netns processes, mounts.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { constants } from "node:os";
import { createLogger } from "../../src/core/logger.js";
import { connectUnix, GuestClient } from "../../src/guest/index.js";
import { resourceTagFor, type ResourceTag } from "../../src/core/resource-tag.js";
import { findSlirp } from "../../src/net/slirp.js";
import { ContainerRuntime } from "../../src/runtimes/container/container-runtime.js";
import type { OciRuntimePreference } from "../../src/runtimes/container/oci-runtime-choice.js";
import type { NetworkMode, RuntimeInstance, WorkspaceResources } from "../../src/runtimes/workspace-runtime.js";
import { mountsUnder, overlayRootfs, type TestRootfs } from "./runtime-rootfs.js";

const REPO = resolve(import.meta.dirname, "../..");
/** The real guest agent bundle (`npm run build`; scripts/test.mjs builds it first). */
export const AGENT_BUNDLE = join(REPO, "dist/agentiso-guest.cjs");

export const SMALL: WorkspaceResources = { memoryMiB: 256, cpus: 1, pidsLimit: 128 };

export interface StartedWorkspace {
  id: string;
  runDir: string;
  instance: RuntimeInstance;
}

// One per test file: create() in before, close() in after, assert close() returned [].
export class RuntimeHarness {
  readonly runtime: ContainerRuntime;
  readonly tag: ResourceTag;
  private readonly rootfs = new Map<string, TestRootfs>();
  private readonly clients = new Map<string, GuestClient>();

  private constructor(
    readonly stateDir: string,
    private readonly ociRuntime: OciRuntimePreference,
    private readonly hostNodePath: string | undefined,
  ) {
    this.tag = resourceTagFor(stateDir);
    this.runtime = this.restarted();
  }

  // A harness with its own short state dir (unix socket paths must stay under 108 bytes).
  // hostNodePath: run the agent on that node (the daemon's default) instead of the image's.
  static async create(options: { ociRuntime?: OciRuntimePreference; hostNodePath?: string } = {}): Promise<RuntimeHarness> {
    const stateDir = await mkdtemp("/tmp/aisrt-");
    // the workspace's root (uid 100000 on the host) must be able to traverse to its rootfs
    await chmod(stateDir, 0o755);
    return new RuntimeHarness(stateDir, options.ociRuntime ?? "auto", options.hostNodePath);
  }

  // A runtime object over the same state dir, as after a daemon restart (with another OCI runtime chosen, if given).
  restarted(ociRuntime = this.ociRuntime): ContainerRuntime {
    return new ContainerRuntime({ stateDir: this.stateDir, tag: this.tag, agentBundlePath: AGENT_BUNDLE, ociRuntime, ...(this.hostNodePath && { hostNodePath: this.hostNodePath }), logger: createLogger({ level: "warn" }) });
  }

  // The agent client of a started workspace (one per workspace, closed when it stops).
  client(id: string): GuestClient {
    let client = this.clients.get(id);
    if (!client) {
      client = new GuestClient({ connect: connectUnix(join(this.runDir(id), "agent.sock")) });
      this.clients.set(id, client);
    }
    return client;
  }

  // Stops the workspace through the runtime and drops its client.
  async stop(id: string, options: { timeoutMs?: number } = {}): Promise<void> {
    await this.clients.get(id)?.close();
    this.clients.delete(id);
    await this.runtime.stop(id, options);
  }

  runDir(id: string): string {
    return join(this.stateDir, "run", id);
  }

  // Starts a workspace on a fresh overlay rootfs and waits for its agent; the id gets a random suffix.
  async start(options: { network?: NetworkMode; resources?: WorkspaceResources; name?: string } = {}): Promise<StartedWorkspace> {
    const started = await this.launch(options);
    await started.instance.ready;
    return started;
  }

  // The same without waiting for the agent: start() resolved once the container runs.
  async launch(options: { network?: NetworkMode; resources?: WorkspaceResources; name?: string } = {}): Promise<StartedWorkspace> {
    const id = `${options.name ?? "w"}-${randomBytes(3).toString("hex")}`;
    const rootfs = await overlayRootfs(join(this.stateDir, "rootfs", id));
    this.rootfs.set(id, rootfs);
    const runDir = this.runDir(id);
    const instance = await this.runtime.start({
      workspaceId: id,
      hostname: id.replace(/[^a-z0-9-]/g, "-"),
      rootfs: rootfs.handle,
      resources: options.resources ?? SMALL,
      network: options.network ?? "none",
      runDir,
    });
    return { id, runDir, instance };
  }

  // Starts a workspace for fn and stops it afterwards whatever happens (stop is idempotent).
  async with<T>(options: Parameters<RuntimeHarness["start"]>[0], fn: (ws: StartedWorkspace) => Promise<T>): Promise<T> {
    const ws = await this.start(options);
    try {
      return await fn(ws);
    } finally {
      await this.stop(ws.id, { timeoutMs: 0 });
    }
  }

  // Runs a shell snippet as root inside the workspace through the real agent; a signal death reads as 128+N like a shell.
  async sh(id: string, script: string, commandTimeoutMs = 60_000): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const result = await this.client(id).exec({ shell: script, commandTimeoutMs });
    const signalled = result.signal ? 128 + (constants.signals[result.signal as NodeJS.Signals] ?? 0) : -1;
    return { exitCode: result.exitCode ?? signalled, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
  }

  // The same through `runc exec`, for when the agent itself cannot fork (fork bomb).
  runcSh(id: string, script: string) {
    return this.runtime.exec(id, ["sh", "-c", script]);
  }

  // Everything of this harness that still exists on the host.
  async leftovers(): Promise<string[]> {
    const left: string[] = [];
    for (const id of await this.runtime.listInstances()) left.push(`runtime instance ${id}`);
    for (const id of this.rootfs.keys()) {
      for (const pid of await findSlirp(this.runtime.resourceName(id))) left.push(`slirp4netns pid ${pid} of ${id}`);
      if (existsSync(`/run/netns/${this.runtime.resourceName(id)}`)) left.push(`netns of ${id}`);
    }
    return left;
  }

  // Stops every workspace, removes rootfs mounts and the state dir; returns what leaked.
  async close(): Promise<string[]> {
    for (const client of this.clients.values()) await client.close();
    for (const id of await this.runtime.listInstances()) await this.runtime.stop(id, { timeoutMs: 2_000 });
    const left = await this.leftovers();
    for (const rootfs of this.rootfs.values()) await rootfs.dispose();
    left.push(...(await mountsUnder(this.stateDir)).map((m) => `mount ${m}`));
    await rm(this.stateDir, { recursive: true, force: true });
    return left;
  }
}
