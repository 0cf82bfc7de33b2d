// Every host resource agentiso creates (runc container, cgroup, mount, loop file, netns,
// nftables table, process argv marker) carries a tag derived from the state dir, so two
// homes run side by side and reconcile can find its own orphans and nobody else's.
import { createHash } from "node:crypto";

export interface ResourceTag {
  /** e.g. "ais3f9a2c": 9 chars, safe in names limited to 15 (interfaces) */
  readonly prefix: string;
  /** Name for one resource, e.g. tag.name("ws", id) -> "ais3f9a2c-ws-<id>" */
  name(...parts: string[]): string;
  /** True when a host resource name was created under this tag. */
  owns(resourceName: string): boolean;
}

export function resourceTagFor(stateDir: string): ResourceTag {
  const prefix = "ais" + createHash("sha256").update(stateDir).digest("hex").slice(0, 6);
  return {
    prefix,
    name: (...parts) => [prefix, ...parts].join("-"),
    owns: (resourceName) => resourceName === prefix || resourceName.startsWith(prefix + "-"),
  };
}
