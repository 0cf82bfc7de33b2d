// A workspace's network policy — the original agentiso's network_policy tool: internet on or
// off, the hosts and ports it may reach, other workspaces never. workspace_network
// (workspace-contracts.ts) stays as the short form for none and egress.
import { z } from "zod";
import { defineContract } from "./contract.js";
import { NetworkEntries, NetworkModeSchema, WorkspaceRef } from "./common-schemas.js";

export const NetworkPolicySchema = z.object({
  workspace: z.string().describe("Its name"),
  network: NetworkModeSchema,
  allow: z.array(z.string()).describe("allowlist: what it may reach (canonical entries)"),
  deny: z.array(z.string()).describe("allowlist: exceptions to allow"),
  interWorkspace: z.literal(false).describe("Workspaces never reach each other (nor the host)"),
  traffic: z
    .object({
      allowedConnections: z.number().describe("New connections the allowlist admitted"),
      refusedConnections: z.number().describe("Connections refused: unlisted, private ranges, the host, other DNS servers"),
      namesAnswered: z.number().describe("DNS names agentiso's resolver answered for it"),
      namesRefused: z.number().describe("DNS names it asked for and was refused (NXDOMAIN)"),
    })
    .optional()
    .describe("Counted since the policy was last applied, while it runs with a network"),
});

export const networkPolicy = defineContract({
  name: "network_policy",
  title: "Set a workspace's network policy",
  description:
    'Show or change what a workspace reaches, live. With only workspace: the current policy and its counters. internet: false is mode none (loopback only), internet: true with no allow is egress (the internet, never the host or private ranges); allow (names like "registry.npmjs.org", "*.pythonhosted.org", "github.com:443", or public CIDRs) makes it an allowlist: names resolve only through agentiso\'s resolver, which admits the addresses it answered; everything else is refused at once. ports limits the allow entries that name no port. Other workspaces are never reachable.',
  category: "other",
  hints: { idempotent: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      mode: NetworkModeSchema.optional(),
      internet: z.boolean().optional().describe("false: mode none; true: egress, or allowlist when allow is given"),
      ...NetworkEntries,
      ports: z.array(z.number().int().min(1).max(65535)).max(32).optional().describe("With allow: the ports of every allow entry that names none, e.g. [443]"),
      interWorkspace: z.boolean().optional().describe("Reach other workspaces: only false (workspaces are always isolated from each other)"),
    })
    .strict(),
  output: NetworkPolicySchema,
});
