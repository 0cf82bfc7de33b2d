// The agent's V8 startup snapshot: scripts/build.mjs writes it beside the bundle
// (agentiso-guest.snapshot.blob) with a sidecar naming the node binary and version that built
// it. A blob only loads into that exact binary, so it is used only when the sidecar matches
// the node the agent will run with; otherwise the agent starts from the bundle as before.
import { readFile } from "node:fs/promises";

export interface SnapshotSidecar {
  node: string;
  execPath: string;
  arch: string;
}

export interface NodeIdentity {
  execPath: string;
  version: string;
  arch: string;
}

// What is known of a node binary: the version only for the one running this process.
export function nodeIdentity(execPath: string): NodeIdentity {
  return { execPath, version: execPath === process.execPath ? process.version : "unknown", arch: process.arch };
}

// The blob path when a usable snapshot sits beside bundlePath for hostNode, else undefined.
export async function findAgentSnapshot(bundlePath: string, hostNode: NodeIdentity): Promise<string | undefined> {
  const base = bundlePath.replace(/\.cjs$/, "");
  const sidecar = await readFile(`${base}.snapshot.json`, "utf8").then(parseSidecar, () => undefined);
  return sidecar && snapshotFits(sidecar, hostNode) ? `${base}.snapshot.blob` : undefined;
}

// True when the blob was built by this very node binary (same path, version and architecture).
export function snapshotFits(sidecar: SnapshotSidecar, hostNode: NodeIdentity): boolean {
  return sidecar.execPath === hostNode.execPath && sidecar.node === hostNode.version && sidecar.arch === hostNode.arch;
}

function parseSidecar(text: string): SnapshotSidecar | undefined {
  try {
    const value = JSON.parse(text) as Partial<SnapshotSidecar>;
    if (typeof value.node === "string" && typeof value.execPath === "string" && typeof value.arch === "string") {
      return { node: value.node, execPath: value.execPath, arch: value.arch };
    }
  } catch {
    // a torn or foreign file: no snapshot
  }
  return undefined;
}
