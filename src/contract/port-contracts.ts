// Exposed ports: a host port forwarded to a port inside a workspace (a dev server opened from
// the host), through the workspace's agent — the original agentiso's port_forward tool.
import { z } from "zod";
import { MAX_PORT_FORWARDS, MIN_FORWARD_HOST_PORT } from "../core/limits.js";
import { defineContract } from "./contract.js";
import { WorkspaceRef } from "./common-schemas.js";
import { PortForwardSchema } from "./result-schemas.js";

export const GuestPort = z.number().int().min(1).max(65535).describe("Port inside the workspace, e.g. 3000");

export const HostPort = z
  .number()
  .int()
  .refine((port) => port === 0 || (port >= MIN_FORWARD_HOST_PORT && port <= 65535), `use ${MIN_FORWARD_HOST_PORT}-65535, or 0 for a free port`)
  .describe(`Host port to listen on (${MIN_FORWARD_HOST_PORT}-65535); 0 or omitted: a free one, given in the answer`);

export const portForward = defineContract({
  name: "port_forward",
  title: "Forward a port",
  description:
    `Open a workspace's port (a dev server) from the host: add listens on a host port (127.0.0.1 unless bind says otherwise) and forwards each connection to guestPort on the workspace's loopback; list shows the forwards; remove closes one. Forwards survive a daemon restart and a stop/start, and go with the workspace. At most ${MAX_PORT_FORWARDS} per workspace.`,
  category: "other",
  hints: { idempotent: true },
  input: z
    .object({
      workspace: WorkspaceRef,
      action: z.enum(["add", "list", "remove"]).describe("add and remove need guestPort"),
      guestPort: GuestPort.optional(),
      hostPort: HostPort.optional(),
      bind: z
        .string()
        .min(1)
        .max(64)
        .optional()
        .describe("Host IP address to listen on (add); default 127.0.0.1. Any other than loopback exposes the workspace's port to every host that can reach that address, and needs public: true"),
      public: z.boolean().optional().describe("Consent to a non-loopback bind address (add)"),
    })
    .strict(),
  output: z
    .union([PortForwardSchema, z.array(PortForwardSchema), z.object({ removed: z.number(), workspace: z.string() })])
    .describe("add: the forward (with the host port chosen); list: every forward of the workspace; remove: the guest port whose forward was removed"),
});
