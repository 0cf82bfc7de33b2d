// What each workspace's network policy counted, for the metrics: read at scrape time from the
// nft counters in its namespace and its DNS gate (one nsenter per workspace with a network).
import type { Engine } from "../engine/engine.js";
import type { GuestClient } from "../guest/guest-client.js";
import type { NetworkTrafficRow } from "../metrics/agentiso-metrics.js";

// Rows for running workspaces with a network (none has no table); a workspace that cannot be read is left out.
export async function networkTrafficByWorkspace(engine: Engine<GuestClient> | undefined): Promise<NetworkTrafficRow[]> {
  const workspaces = engine?.workspaces.list({ states: ["running", "paused"] }).filter((w) => w.network !== "none") ?? [];
  const rows = await Promise.all(
    workspaces.map(async (w) => {
      const traffic = await engine!.workspaces.runtimeOf(w).networkTraffic?.(w.id).catch(() => undefined);
      return traffic && { workspace: w.name, ...traffic };
    }),
  );
  return rows.filter((row): row is NetworkTrafficRow => row !== undefined);
}
