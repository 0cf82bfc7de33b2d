// The engine's dependencies over fake storage and a fake runtime, for engine unit tests: the
// state dir's resource tag, a silent logger, bases imported on first use, and guests that
// connect, sync and rename without doing anything (no tunnels). A test overrides what it needs.
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import type { EngineDeps, GuestLink } from "../../src/engine/engine-deps.js";
import type { WorkspaceRuntime } from "../../src/runtimes/workspace-runtime.js";
import type { FakeStorage } from "./fake-storage.js";
import { noTunnels } from "./fake-runtime.js";

/** The engine defaults of these tests: a base container with small limits, no network. */
export const ENGINE_TEST_DEFAULTS = { image: "base", runtime: "container" as const, memoryMiB: 512, cpus: 1, diskBytes: 1 << 30, pidsLimit: 256, network: "none" as const };

export function fakeEngineDeps(stateDir: string, storage: FakeStorage, runtime: WorkspaceRuntime, overrides: Partial<EngineDeps<GuestLink>> = {}): EngineDeps<GuestLink> {
  return {
    stateDir,
    tag: resourceTagFor(stateDir),
    logger: silentLogger,
    storage,
    runtimes: { container: runtime },
    images: { ensureBase: async (image) => (storage.bases.has(image) ? image : (await storage.importBase(image)).name) },
    guests: { connect: async () => ({ close: async () => {} }), syncDisk: async () => {}, setHostname: async () => {}, openTunnel: noTunnels },
    ...overrides,
  };
}
