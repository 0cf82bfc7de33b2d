// The network flags of `ws create`, `ws fork` and `ws network`: --network MODE, --allow ENTRY
// and --deny ENTRY (each repeatable, or comma-separated), --ports 443,80. Validation is the
// operation's (one place); these only gather the words.
import type { Values } from "./command.js";

export const NETWORK_USAGE = "[--network none|egress|allowlist] [--allow HOST[:PORT]|CIDR]... [--deny HOST|CIDR]...";

export const NETWORK_OPTIONS = {
  network: { type: "string" },
  allow: { type: "string", multiple: true },
  deny: { type: "string", multiple: true },
} as const;

// The list given by a repeatable flag, commas splitting too; undefined when absent.
export function listFlag(values: Values, key: string): string[] | undefined {
  const given = values[key];
  if (given === undefined) return undefined;
  return (Array.isArray(given) ? given : [given]).flatMap((v) => String(v).split(",")).map((v) => v.trim()).filter(Boolean);
}

// { network?, allow?, deny? } for an operation's input.
export function networkFlags(values: Values): { network?: string; allow?: string[]; deny?: string[] } {
  const [network, allow, deny] = [values.network, listFlag(values, "allow"), listFlag(values, "deny")];
  return {
    ...(typeof network === "string" && { network }),
    ...(allow !== undefined && { allow }),
    ...(deny !== undefined && { deny }),
  };
}
