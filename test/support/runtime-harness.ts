// A ContainerRuntime over a fresh state dir for one test file, with helpers to start
// workspaces on overlay rootfs and a leak check that names whatever was left behind:
// runc containers, cgroups, network namespaces, slirp4netns processes, mounts.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { createLogger } from "../../src/core/logger.js";
import { resourceTagFor, type ResourceTag } from "../../src/core/resource-tag.js";
import { findSlirp } from "../../src/net/slirp.js";
import { ContainerRuntime } from "../../src/runtimes/container/container-runtime.js";
import type { NetworkMode, RuntimeInstance, WorkspaceResources } from "../../src/runtimes/workspace-runtime.js";
import { mountsUnder, overlayRootfs, type TestRootfs } from "./runtime-rootfs.js";

const REPO = resolve(import.meta.dirname, "../..");
export const REAL_AGENT = join(REPO, "dist/agentiso-guest.cjs");
export const TEST_AGENT = join(REPO, "test/support/runtime-test-agent.cjs");

export const SMALL: WorkspaceResources = { memoryMiB: 256, cpus: 1, pidsLimit: 128 };

export interface StartedWorkspace {
  id: string;
  runDir: string;
  instance: RuntimeInstance;
}

export class RuntimeHarness {
  readonly runtime: ContainerRuntime;
  readonly tag: ResourceTag;
  private readonly rootfs = new Map<string, TestRootfs>();

  private constructor(
    readonly stateDir: string,
    agentBundlePath: string,
  ) {
    this.tag = resourceTagFor(stateDir);
    this.runtime = new ContainerRuntime({ stateDir, tag: this.tag, agentBundlePath, logger: createLogger({ level: "warn" }) });
  }

  // A harness with its own short state dir (unix socket paths must stay under 108 bytes).
  static async create(options: { agent?: "test" | "real" } = {}): Promise<RuntimeHarness> {
    const stateDir = await mkdtemp("/tmp/aisrt-");
    // the workspace's root (uid 100000 on the host) must be able to traverse to its rootfs
    await chmod(stateDir, 0o755);
    return new RuntimeHarness(stateDir, options.agent === "real" ? REAL_AGENT : TEST_AGENT);
  }

  // A runtime object over the same state dir, as after a daemon restart.
  restarted(): ContainerRuntime {
    return new ContainerRuntime({ stateDir: this.stateDir, tag: this.tag, agentBundlePath: TEST_AGENT, logger: createLogger({ level: "warn" }) });
  }

  runDir(id: string): string {
    return join(this.stateDir, "run", id);
  }

  // Starts a workspace on a fresh overlay rootfs; the id gets a random suffix.
  async start(options: { network?: NetworkMode; resources?: WorkspaceResources; name?: string } = {}): Promise<StartedWorkspace> {
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
      await this.runtime.stop(ws.id, { timeoutMs: 0 });
    }
  }

  // Runs a shell snippet as root inside the workspace.
  sh(id: string, script: string, timeoutMs = 60_000) {
    return this.runtime.exec(id, ["sh", "-c", script], { timeoutMs });
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
    for (const id of await this.runtime.listInstances()) await this.runtime.stop(id, { timeoutMs: 2_000 });
    const left = await this.leftovers();
    for (const rootfs of this.rootfs.values()) await rootfs.dispose();
    left.push(...(await mountsUnder(this.stateDir)).map((m) => `mount ${m}`));
    await rm(this.stateDir, { recursive: true, force: true });
    return left;
  }
}
