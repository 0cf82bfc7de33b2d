// The contract every copy-on-write storage backend fulfils (btrfs, zfs, overlay). The engine
// and runtimes see only this interface; the composition root picks the driver.
//
// Vocabulary:
//   base      — an immutable imported image (rootfs directory, optionally a disk image for VMs)
//   workspace — a writable volume cloned from a base or forked from a workspace snapshot
//   snapshot  — a read-only point-in-time copy of a workspace, named per workspace
// Names are validated with core/names (no traversal, no option injection).

export type StorageKind = "btrfs" | "zfs" | "overlay";

/** How a runtime receives a workspace's root filesystem. */
export type RootfsHandle =
  /** Containers: a directory to use as the rootfs (a mounted subvolume/dataset/overlay). */
  | { kind: "directory"; path: string }
  /** MicroVMs: a block image (raw or qcow2 file in the pool) or a device node (a zvol). */
  | { kind: "block"; path: string; format: "raw" | "qcow2" | "device" };

export type VolumeLayout = "directory" | "block";

export interface BaseInfo {
  name: string;
  layout: VolumeLayout;
  sizeBytes: number;
  createdAt: string;
}

export interface WorkspaceVolumeInfo {
  name: string;
  layout: VolumeLayout;
  base: string;
  /** Set for forks: the workspace and snapshot this volume was cloned from. */
  forkedFrom?: { workspace: string; snapshot: string };
  quotaBytes?: number;
  /** Names of its snapshots, oldest first (for reconcile: storage and the database must agree). */
  snapshots?: string[];
}

export interface SnapshotInfo {
  workspace: string;
  name: string;
  createdAt: string;
  /** Bytes held only by this snapshot (what deleting it would free), when the backend knows. */
  exclusiveBytes?: number;
  /** Workspaces forked from this snapshot (they block its deletion). */
  dependents: string[];
}

export interface DiskUsage {
  usedBytes: number;
  quotaBytes?: number;
}

export type BaseSource =
  | { kind: "rootfs-dir"; path: string }
  | { kind: "tarball"; path: string }
  /** A raw disk image (ext4) for VM workspaces. */
  | { kind: "disk-image"; path: string };

export interface StorageCapabilities {
  /** Can hand out block images/devices for VM workspaces. */
  blockVolumes: boolean;
  /** setQuota enforces a limit. */
  quotas: boolean;
  /**
   * The limit also covers what the workspace's snapshots keep (zfs `quota`, btrfs with simple
   * quotas): rewriting a workspace between snapshots cannot grow it past its limit. Known after setup().
   */
  quotaCoversSnapshots?: boolean;
  /** Snapshot and fork cost is independent of the workspace's size. */
  constantTimeFork: boolean;
  /**
   * restore() keeps the snapshots taken after the one restored. False on zfs, whose
   * `rollback -r` destroys them (restore is refused with CONFLICT if any of them has forks).
   */
  restoreKeepsLaterSnapshots: boolean;
}

export interface StorageDriver {
  readonly kind: StorageKind;
  readonly capabilities: StorageCapabilities;

  /** Idempotent: creates or re-attaches the pool (loop file, mount, zpool import). */
  setup(signal?: AbortSignal): Promise<void>;
  /** Releases what setup attached for this process (does not delete data). */
  close(): Promise<void>;

  importBase(name: string, source: BaseSource, options?: { layout?: VolumeLayout; signal?: AbortSignal }): Promise<BaseInfo>;
  listBases(): Promise<BaseInfo[]>;
  /** Refused with CONFLICT while workspaces were cloned from it. */
  deleteBase(name: string): Promise<void>;

  createWorkspace(name: string, options: { base: string; quotaBytes?: number; signal?: AbortSignal }): Promise<WorkspaceVolumeInfo>;
  forkWorkspace(
    name: string,
    options: { from: string; snapshot: string; quotaBytes?: number; signal?: AbortSignal },
  ): Promise<WorkspaceVolumeInfo>;
  listWorkspaces(): Promise<WorkspaceVolumeInfo[]>;
  /** Refused with CONFLICT while forks depend on one of its snapshots. */
  destroyWorkspace(name: string): Promise<void>;

  snapshot(workspace: string, snapshot: string): Promise<SnapshotInfo>;
  listSnapshots(workspace: string): Promise<SnapshotInfo[]>;
  /** Rolls the workspace back to exactly the snapshot's content. The workspace must not be in use. */
  restore(workspace: string, snapshot: string): Promise<void>;
  /** Refused with CONFLICT while forks depend on it. */
  deleteSnapshot(workspace: string, snapshot: string): Promise<void>;

  usage(workspace: string): Promise<DiskUsage>;
  /**
   * Bytes used by every workspace (by volume name) from one cheap read of the whole pool, as of
   * the backend's last commit (no sync): for the dashboard, every few seconds. A workspace
   * missing from the map is unknown (overlay directories: a tree walk is not cheap).
   */
  usageOfAll(): Promise<Map<string, number>>;
  /**
   * Writes past the quota fail with ENOSPC/EDQUOT inside; the workspace stays usable.
   * UNSUPPORTED when capabilities.quotas is false (overlay).
   */
  setQuota(workspace: string, quotaBytes: number | undefined): Promise<void>;

  /** What the runtime mounts or boots. Stable until destroyWorkspace. */
  rootfs(workspace: string): Promise<RootfsHandle>;
}
