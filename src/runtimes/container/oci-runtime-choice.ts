// Which OCI runtime starts new container workspaces. crun (C) and runc (Go) take the same
// commands and give the same isolation from the same config.json; crun starts a container in
// ~12 ms of ~10 ms CPU where runc takes ~40 ms of ~25 ms CPU (measured on the 2-core box,
// docs/performance.md). "auto" picks crun when it is installed and can drive this host's
// cgroups, else runc.
import { readFile, statfs } from "node:fs/promises";
import { runCommand } from "../../core/run-command.js";
import type { OciRuntimeName } from "./oci-cli.js";

export type OciRuntimePreference = "auto" | OciRuntimeName;

export interface OciRuntimeChoice {
  name: OciRuntimeName;
  /** The binary's first `--version` line. */
  version: string;
  /** Why this one: shown by `agentiso check` and logged at daemon start. */
  reason: string;
}

export interface OciRuntimeProbe {
  /** The first line of `<name> --version`, or undefined when it is not installed. */
  version(name: OciRuntimeName): Promise<string | undefined>;
  /** Why crun cannot drive this host's cgroups, or undefined when it can. */
  crunRefusal(): Promise<string | undefined>;
}

// Throws when the preference cannot be had (a named runtime missing, or neither installed).
export async function chooseOciRuntime(preference: OciRuntimePreference, probe: OciRuntimeProbe = hostProbe): Promise<OciRuntimeChoice> {
  const [crun, runc] = await Promise.all([probe.version("crun"), probe.version("runc")]);
  if (preference === "runc") {
    if (runc === undefined) throw new Error("runc is not installed (apt-get install runc)");
    return { name: "runc", version: runc, reason: "[runtime] oci = \"runc\"" };
  }
  const refusal = crun === undefined ? "crun is not installed (apt-get install crun)" : await probe.crunRefusal();
  if (preference === "crun") {
    if (refusal !== undefined) throw new Error(refusal);
    return { name: "crun", version: crun!, reason: "[runtime] oci = \"crun\"" };
  }
  if (refusal === undefined) return { name: "crun", version: crun!, reason: "crun is installed and can drive this host's cgroups" };
  if (runc === undefined) throw new Error(`neither OCI runtime can be used: ${refusal}; runc is not installed (apt-get install runc)`);
  return { name: "runc", version: runc, reason: `${refusal}: runc starts containers instead (slower)` };
}

const CGROUP2_MAGIC = 0x63677270;

// crun 1.8 refuses a hybrid host (v1 controllers, cgroup2 at /sys/fs/cgroup/unified) whose cgroup2
// tree holds any controller ("cgroups in hybrid mode not supported, drop all controllers from
// cgroupv2"). systemd's hybrid layout leaves it none; a host that never mounted, say, hugetlb
// as v1 has it there.
export async function crunCgroupRefusal(root = "/sys/fs/cgroup"): Promise<string | undefined> {
  const isCgroup2 = (path: string) => statfs(path).then((s) => s.type === CGROUP2_MAGIC, () => false);
  if (await isCgroup2(root)) return undefined; // unified: crun's home ground
  const unified = `${root}/unified`;
  if (!(await isCgroup2(unified))) return undefined; // cgroup v1 only
  const controllers = (await readFile(`${unified}/cgroup.controllers`, "utf8").catch(() => "")).trim();
  if (controllers === "") return undefined;
  const first = controllers.split(/\s+/)[0]!;
  return `crun cannot run on this hybrid cgroup layout: the cgroup2 tree at ${unified} holds controllers (${controllers}); mounting them as v1 hierarchies (\`mkdir -p ${root}/${first} && mount -t cgroup -o ${first} cgroup ${root}/${first}\`) lets it`;
}

const hostProbe: OciRuntimeProbe = {
  async version(name) {
    const result = await runCommand([name, "--version"], { check: false, timeoutMs: 10_000 }).catch(() => undefined);
    if (result?.exitCode !== 0) return undefined;
    return result.stdout.split("\n")[0]!.trim();
  },
  crunRefusal: () => crunCgroupRefusal(),
};
