// The OCI bundle of one container start: the run dir prepared (run-dir.ts) and the
// config.json (oci-spec.ts) written into it, with what the host allows read once.
import { writeFile } from "node:fs/promises";
import type { RuntimeStartSpec } from "../workspace-runtime.js";
import { buildWorkspaceSpec, type HardLimits, type IdMapping } from "./oci-spec.js";
import { prepareRunDir, type RunDirPaths } from "./run-dir.js";
import { toHostname } from "./hostname.js";
import { buildSeccompProfile } from "./seccomp-profile.js";
import { ioWeightSupported, readHardLimits } from "./host-limits.js";
import type { HostNode } from "./host-node-picker.js";

/** cgroup IO weight of every workspace where the host's scheduler weighs IO (10-1000; host processes have 100-500). */
const WORKSPACE_IO_WEIGHT = 50;

export interface BundleOptions {
  idMapping: IdMapping;
  tiniPath: string;
  agentBundlePath: string;
  nodePathInGuest: string;
  sharedTools?: Record<string, string>;
}

export class BundleWriter {
  /** The daemon's hard rlimits and whether IO can be weighed: read once, they do not change. */
  private hostLimits: Promise<{ hard: HardLimits; ioWeight: boolean }> | undefined;

  constructor(private readonly options: BundleOptions) {}

  // Prepares the run dir and writes the OCI config.json into it (the run dir is the bundle).
  async write(spec: RuntimeStartSpec, name: string, hostNode: HostNode | undefined): Promise<RunDirPaths> {
    const paths = await prepareRunDir(spec.runDir, toHostname(spec.hostname), this.options.idMapping.hostId);
    this.hostLimits ??= Promise.all([readHardLimits(), ioWeightSupported()]).then(([hard, ioWeight]) => ({ hard, ioWeight }));
    const host = await this.hostLimits;
    const config = buildWorkspaceSpec(
      {
        rootfsPath: spec.rootfs.path,
        hostname: toHostname(spec.hostname),
        resources: spec.resources,
        cgroupsPath: `/${name}`,
        idMapping: this.options.idMapping,
        tiniPath: this.options.tiniPath,
        agentBundlePath: this.options.agentBundlePath,
        ...(this.options.sharedTools && { sharedTools: this.options.sharedTools }),
        agentRunDir: paths.agentDir,
        nodePathInGuest: this.options.nodePathInGuest,
        ...(hostNode && { hostNodePath: hostNode.path }),
        ...(hostNode?.snapshot !== undefined && { agentSnapshotPath: hostNode.snapshot }),
        ...(hostNode?.libs !== undefined && { hostNodeLibs: hostNode.libs }),
        hostsFile: paths.hosts,
        resolvConfFile: paths.resolvConf,
        annotations: { "dev.agentiso.workspace": spec.workspaceId },
        hostHardLimits: host.hard,
        // below every process outside (CFQ's default weight is 500, BFQ's 100): under IO contention the host wins
        ...(host.ioWeight && { blkioWeight: WORKSPACE_IO_WEIGHT }),
      },
      buildSeccompProfile(),
    );
    await writeFile(paths.config, JSON.stringify(config, null, 1));
    return paths;
  }
}
