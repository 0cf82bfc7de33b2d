// Which node binary runs a container's agent: the host's own (shared read-only, with the agent's
// startup snapshot when one fits it) unless the rootfs has no glibc loader or the host's node
// has already failed to start there; then the guest's node (see oci-spec.ts hostNodePath).
import { access } from "node:fs/promises";
import { join } from "node:path";
import { findAgentSnapshot, nodeIdentity } from "./agent-snapshot.js";
import { prepareHostNodeLibs, type HostNodeLibs } from "./host-node-libs.js";

/** The host node binary a start uses, with the agent's startup snapshot when one fits it. */
export interface HostNode {
  path: string;
  snapshot?: string;
  /** The host's loader and node's libraries (host-node-libs.ts); unset for a static node. */
  libs?: HostNodeLibs;
}

export interface HostNodePickerOptions {
  /** Unset: every agent runs on the guest's node. */
  hostNodePath: string | undefined;
  agentBundlePath: string;
  /** Where the host node's libraries are copied for the containers to mount. */
  libsDir: string;
}

export class HostNodePicker {
  /** Rootfs paths where the host's node did not start the agent: they use the guest's node. */
  private readonly refused = new Set<string>();
  private agentSnapshot: Promise<string | undefined> | undefined;
  private hostNodeLibs: Promise<HostNodeLibs | undefined> | undefined;

  constructor(private readonly options: HostNodePickerOptions) {}

  // The host's node for this rootfs, unless it has failed there or the rootfs has no glibc loader (musl images).
  async pick(rootfsPath: string): Promise<HostNode | undefined> {
    const path = this.options.hostNodePath;
    if (path === undefined || this.refused.has(rootfsPath)) return undefined;
    // only a hint (a symlink inside may point anywhere): a wrong guess costs one failed start, then the fallback
    const hasGlibcLoader = await access(join(rootfsPath, "lib64", "ld-linux-x86-64.so.2")).then(() => true, () => false);
    if (!hasGlibcLoader) return undefined;
    // the version is known for the daemon's own binary only; another binary runs without the snapshot
    this.agentSnapshot ??= findAgentSnapshot(this.options.agentBundlePath, nodeIdentity(path));
    const snapshot = await this.agentSnapshot;
    this.hostNodeLibs ??= prepareHostNodeLibs(path, this.options.libsDir);
    const libs = await this.hostNodeLibs;
    return { path, ...(snapshot !== undefined && { snapshot }), ...(libs !== undefined && { libs }) };
  }

  // The host's node could not start the agent on this rootfs (musl, an older glibc): never again.
  refuse(rootfsPath: string): void {
    this.refused.add(rootfsPath);
  }
}
