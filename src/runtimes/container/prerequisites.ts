// What the container runtime needs from the host, each with the fix when it is missing.
import { access, readFile } from "node:fs/promises";
import { constants } from "node:fs";
import { runCommand } from "../../core/run-command.js";
import type { PrerequisiteCheck } from "../workspace-runtime.js";
import { cgroupHierarchies } from "../host-cgroups.js";
import { findAgentSnapshot, nodeIdentity } from "./agent-snapshot.js";
import { chooseOciRuntime, type OciRuntimePreference } from "./oci-runtime-choice.js";

export interface PrerequisiteInput {
  ociRuntime: OciRuntimePreference;
  tiniPath: string;
  agentBundlePath: string;
  /** The host node the agent runs on ([runtime] agentNode = "host"); unset: the image's node. */
  hostNodePath?: string;
}

// Runs every check; never throws (a failing probe is a failed check).
export async function checkContainerPrerequisites(input: PrerequisiteInput): Promise<PrerequisiteCheck[]> {
  const apt = (pkg: string) => `apt-get install ${pkg}`;
  return Promise.all([
    ociRuntime(input.ociRuntime),
    fileCheck("tini-static", input.tiniPath, apt("tini")),
    fileCheck("guest agent bundle", input.agentBundlePath, "npm run build"),
    commandCheck("slirp4netns", ["slirp4netns", "--version"], apt("slirp4netns")),
    commandCheck("nftables", ["nft", "--version"], apt("nftables")),
    commandCheck("iproute2", ["ip", "-V"], apt("iproute2")),
    commandCheck("nsenter", ["nsenter", "--version"], apt("util-linux")),
    agentNode(input),
    userNamespaces(),
    cgroupControllers(),
    { name: "root", ok: process.getuid?.() === 0, detail: "OCI runtimes, cgroups and netns need root", fix: "run the agentiso daemon as root" },
  ]);
}

async function commandCheck(name: string, argv: string[], fix: string): Promise<PrerequisiteCheck> {
  try {
    const result = await runCommand(argv, { timeoutMs: 10_000 });
    return { name, ok: true, detail: (result.stdout || result.stderr).split("\n")[0]!.trim() };
  } catch (err) {
    return { name, ok: false, detail: err instanceof Error ? err.message : String(err), fix };
  }
}

async function fileCheck(name: string, path: string, fix: string): Promise<PrerequisiteCheck> {
  const ok = await access(path, constants.R_OK).then(() => true, () => false);
  return { name, ok, detail: ok ? path : `${path} is missing`, ...(ok ? {} : { fix }) };
}

// Which OCI runtime starts containers and why; failing when the one asked for cannot.
async function ociRuntime(preference: OciRuntimePreference): Promise<PrerequisiteCheck> {
  const name = "OCI runtime";
  try {
    const choice = await chooseOciRuntime(preference);
    return { name, ok: true, detail: `${choice.version} (${choice.reason})` };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message, fix: preference === "runc" ? "apt-get install runc" : "apt-get install crun runc" };
  }
}

// Informational: which node starts the agent, and whether the startup snapshot fits it (a start ~2x faster).
async function agentNode(input: PrerequisiteInput): Promise<PrerequisiteCheck> {
  const name = "agent node";
  if (input.hostNodePath === undefined) return { name, ok: true, detail: "the image's /usr/bin/node ([runtime] agentNode = \"image\")" };
  const identity = nodeIdentity(input.hostNodePath);
  const snapshot = await findAgentSnapshot(input.agentBundlePath, identity);
  const start = snapshot ? "from the agent's startup snapshot" : "without a startup snapshot (`npm run build` with this node makes one)";
  return { name, ok: true, detail: `the host's ${input.hostNodePath} ${identity.version}, ${start}; images without glibc use their own node` };
}

async function userNamespaces(): Promise<PrerequisiteCheck> {
  const max = Number((await readFile("/proc/sys/user/max_user_namespaces", "utf8").catch(() => "0")).trim());
  const ok = max > 0;
  return { name: "user namespaces", ok, detail: `max_user_namespaces=${max}`, ...(ok ? {} : { fix: "sysctl -w user.max_user_namespaces=15000" }) };
}

async function cgroupControllers(): Promise<PrerequisiteCheck> {
  const hierarchies = await cgroupHierarchies().catch(() => []);
  // v1 mounts are named after their controllers ("cpu,cpuacct"); a pure v2 host has one mount at the root
  const controllers = new Set(hierarchies.flatMap((h) => h.split("/").pop()!.split(",")));
  const pureV2 = hierarchies.length === 1 && hierarchies[0] === "/sys/fs/cgroup";
  const ok = pureV2 || ["memory", "pids", "cpu"].every((c) => controllers.has(c));
  return { name: "cgroups", ok, detail: hierarchies.join(" ") || "no cgroup mounts", ...(ok ? {} : { fix: "mount the memory, pids and cpu cgroup controllers" }) };
}
