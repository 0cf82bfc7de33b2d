// The composition root: the ONE place that picks concrete drivers (storage, runtimes, image
// library, guest transport) from the config and builds the engine from them.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config/config.js";
import { AgentisoError, isAgentisoError } from "../core/errors.js";
import { loadWorkspaceTrust } from "./workspace-trust.js";
import type { GuestTrust } from "../protocol/index.js";
import { ensureStateDir } from "../core/state-dir.js";
import type { Logger } from "../core/logger.js";
import { resourceTagFor, type ResourceTag } from "../core/resource-tag.js";
import { Engine } from "../engine/engine.js";
import type { EngineDeps, EngineEvents, GuestConnector } from "../engine/engine-deps.js";
import type { ReconcileReport } from "../engine/reconcile.js";
import { GuestClient, connectUnix } from "../guest/index.js";
import { runChecked } from "../guest/run-checked.js";
import { ImageLibrary } from "../images/image-library.js";
import { ContainerRuntime } from "../runtimes/container/container-runtime.js";
import { toHostname } from "../runtimes/container/hostname.js";
import { WorkspaceNetwork } from "../net/workspace-network.js";
import { upstreamDns } from "../net/upstream-dns.js";
import type { GuestEndpoint } from "../runtimes/workspace-runtime.js";
import { VmRuntime } from "../runtimes/vm/vm-runtime.js";
import { ensureGuestBootFiles, type GuestBootFiles } from "../images/vm-boot/index.js";
import { BtrfsStorage } from "../storage/btrfs-storage.js";
import { OverlayStorage } from "../storage/overlay-storage.js";
import { ZfsStorage } from "../storage/zfs-storage.js";
import type { StorageDriver } from "../storage/storage-driver.js";
import { LibraryBaseImages } from "./base-images.js";
import { PACKAGE_ROOT } from "./package-root.js";
import { warmPoolSettings } from "./warm-pool-settings.js";

export function imageCacheDir(config: Config): string {
  return config.images.cacheDir ?? join(config.home, "images");
}

/** The pinned opencode binary of this install (npm package opencode-linux-x64). */
export function hostOpencodeBinary(): string {
  return join(PACKAGE_ROOT, "node_modules", "opencode-linux-x64", "bin", "opencode");
}

// The image library of this install (recipes from the package, cache per config).
export function createImageLibrary(config: Config, logger: Logger): ImageLibrary {
  const opencodeBin = hostOpencodeBinary();
  return new ImageLibrary({
    cacheDir: imageCacheDir(config),
    recipesDir: join(PACKAGE_ROOT, "images"),
    recipeEnv: { OPENCODE_BIN: opencodeBin },
    logger: logger.child({ component: "images" }),
  });
}

// The storage driver the config names (not yet set up: call setup()).
export function createStorage(config: Config, tag: ResourceTag, logger: Logger): StorageDriver {
  const log = logger.child({ component: "storage" });
  // the host gid of root inside container workspaces: the only one let through to their files
  const workspaceGid = config.runtime.uidShiftBase;
  switch (config.storage.driver) {
    case "btrfs":
      return new BtrfsStorage({
        stateDir: config.home,
        tag,
        logger: log,
        loopPoolSizeBytes: config.storage.poolSize,
        ...(config.storage.poolDir !== undefined && { poolDir: config.storage.poolDir }),
        workspaceGid,
      });
    case "overlay":
      return new OverlayStorage({ rootDir: join(config.home, "overlay"), tag, logger: log, workspaceGid });
    case "zfs":
      if (!config.storage.zfsDataset) throw new AgentisoError("INVALID_INPUT", "the zfs driver needs storage.zfsDataset (a pool or dataset, e.g. tank/agentiso) in config.toml or AGENTISO_ZFS_DATASET");
      return new ZfsStorage({ pool: config.storage.zfsDataset, tag, logger: log, zvols: config.storage.zfsZvols, workspaceGid });
  }
}

export function agentBundlePath(): string {
  const path = join(PACKAGE_ROOT, "dist", "agentiso-guest.cjs");
  if (!existsSync(path)) throw new AgentisoError("INVALID_STATE", `the guest agent bundle ${path} is missing: run \`npm run build\``);
  return path;
}

// `trust`: what every workspace is told at connect (the operator's CAs and proxies), if anything.
const guestConnector = (logger: Logger, trust: GuestTrust | undefined): GuestConnector<GuestClient> => ({
  async connect(endpoint, options) {
    const client = new GuestClient({
      connect: connectUnix(endpoint.path),
      logger: logger.child({ workspace: options.workspace }),
      // a VM just resumed under TCG retranslates the agent's code before it can answer
      ...(endpoint.singleStream && { connectTimeoutMs: 120_000, helloRetryMs: 15_000 }),
    });
    try {
      const signal = options.signal ? { signal: options.signal } : {};
      await client.connect(signal);
      if (endpoint.configure || trust) await client.configure({ ...guestSettings(endpoint.configure ?? {}), ...(trust && { trust }) }, signal);
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  },
  async setHostname(guest, hostname, signal) {
    await guest.configure({ hostname: toHostname(hostname) }, signal ? { signal } : {});
  },
  // 127.0.0.1 first, then ::1: a dev server on "localhost" may listen on either
  async openTunnel(guest, port, signal) {
    try {
      return await guest.openTunnel(port, {}, { signal });
    } catch (err) {
      if (!isAgentisoError(err, "NOT_FOUND")) throw err;
      return guest.openTunnel(port, { host: "::1" }, { signal });
    }
  },
  async hasRunningJobs(guest, signal) {
    return (await guest.listJobs(signal ? { signal } : {})).some((job) => job.running);
  },
  async warmUp(guest, signal) {
    await guest.exec({ argv: ["true"] }, signal ? { signal } : {});
  },
  async syncClock(guest, signal) {
    await guest.configure({ clockEpochMs: Date.now() }, signal ? { signal } : {});
  },
  async syncDisk(guest, signal) {
    await runChecked(guest, { argv: ["sync"] }, { what: "sync inside the workspace", wording: "failed", output: "stderr", noOutput: "", ...(signal && { signal }) });
  },
});

// What a (re)started guest is told: its name, the host's clock, fresh randomness.
function guestSettings(wanted: NonNullable<GuestEndpoint["configure"]>): { hostname?: string; clockEpochMs?: number; entropy?: Uint8Array } {
  return {
    ...(wanted.hostname !== undefined && { hostname: toHostname(wanted.hostname) }),
    ...(wanted.syncClock && { clockEpochMs: Date.now() }),
    ...(wanted.reseedEntropy && { entropy: randomBytes(64) }),
  };
}

// The microVM guest kernel + initramfs of this install, built (or found) in the image cache.
export function ensureVmBootFiles(config: Config, logger: Logger): Promise<GuestBootFiles> {
  return ensureGuestBootFiles({ cacheDir: imageCacheDir(config), agentBundlePath: agentBundlePath(), logger: logger.child({ component: "vm-boot" }) });
}

// The vm runtime of this install (QEMU microVMs; the guest kernel is cached next to the images).
// `network`: the one the containers use, so egress VMs get the same policy and rules.
export function createVmRuntime(config: Config, tag: ResourceTag, logger: Logger, network?: WorkspaceNetwork): VmRuntime {
  return new VmRuntime({
    tag,
    bootCacheDir: imageCacheDir(config),
    agentBundlePath: join(PACKAGE_ROOT, "dist", "agentiso-guest.cjs"),
    accel: config.vm.accel,
    qemuBinary: config.vm.qemu,
    ...(config.vm.uid > 0 && { runAs: { uid: config.vm.uid, gid: config.vm.uid } }),
    consoleLogBytes: config.caps.consoleLogBytes,
    ...(network && { network }),
    logger: logger.child({ component: "vm-runtime" }),
  });
}

export interface OpenEngineOptions {
  events?: EngineEvents;
}

export interface OpenedEngine {
  engine: Engine<GuestClient>;
  report: ReconcileReport;
  /** Closes the engine, then the DNS gate's sockets (held by the daemon for allowlist workspaces: open, they keep its process alive). */
  close(): Promise<void>;
}

// Builds every driver from the config and opens (and reconciles) the engine of config.home.
export async function openEngine(config: Config, logger: Logger, options: OpenEngineOptions = {}): Promise<OpenedEngine> {
  const tag = resourceTagFor(config.home);
  ensureStateDir(config.home, { workspaceGid: config.runtime.uidShiftBase });
  const storage = createStorage(config, tag, logger);
  const idShift = config.runtime.uidShiftBase;
  const opencode = hostOpencodeBinary();
  const network = new WorkspaceNetwork({ logger: logger.child({ component: "network" }), policy: config.net, upstreamDns: () => upstreamDns(config.net.upstreamDns) });
  const container = new ContainerRuntime({
    ...(existsSync(opencode) && { sharedTools: { opencode } }),
    stateDir: config.home,
    tag,
    agentBundlePath: agentBundlePath(),
    // the daemon's own binary: its version is known, so the agent's startup snapshot can be checked against it
    ...(config.runtime.agentNode === "host" && { hostNodePath: process.execPath }),
    thrashKillMs: config.runtime.thrashKillMs,
    ociRuntime: config.runtime.oci,
    consoleLogBytes: config.caps.consoleLogBytes,
    onThrashKill: () => options.events?.thrashKill?.({ runtime: "container" }),
    uidShift: { hostId: idShift, size: config.runtime.uidShiftSize },
    network,
    logger: logger.child({ component: "container-runtime" }),
  });
  const scratchDir = join(config.home, "tmp");
  await mkdir(scratchDir, { recursive: true });
  const deps: EngineDeps<GuestClient> = {
    stateDir: config.home,
    tag,
    logger,
    storage,
    runtimes: { container, vm: createVmRuntime(config, tag, logger, network) },
    bootTemplates: config.vm.templates,
    warmPool: warmPoolSettings(config),
    images: new LibraryBaseImages({ library: createImageLibrary(config, logger), storage, idShift, scratchDir, logger }),
    guests: guestConnector(logger, await loadWorkspaceTrust(config.net)),
    ...(options.events && { events: options.events }),
  };
  const defaults = {
    image: config.defaults.image,
    runtime: config.runtime.default,
    memoryMiB: Math.ceil(config.defaults.memory / (1024 * 1024)),
    cpus: config.defaults.cpus,
    diskBytes: config.defaults.disk,
    pidsLimit: config.defaults.pidsLimit,
    network: config.defaults.network,
  };
  // reconcile may have opened the gate again for adopted allowlist workspaces
  const { engine, report } = await Engine.open(deps, defaults).catch(async (err: unknown) => {
    await network.close();
    throw err;
  });
  const close = async () => {
    await engine.close();
    await network.close();
  };
  return { engine, report, close };
}
