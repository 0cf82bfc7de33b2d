// `agentiso teardown [--purge]`: the inverse of init. Destroys every workspace, stops the
// daemon, detaches the storage pool (unmount, free the loop device); --purge also deletes the
// state dir with its images and database. Used by uninstalls and by tests that must leave
// nothing behind.
import { rm } from "node:fs/promises";
import { resourceTagFor } from "../../core/resource-tag.js";
import type { CliCommand } from "../command.js";
import { contracts } from "../../contract/registry.js";
import { isDaemonRunning } from "../daemon-control.js";
import { daemonCommand } from "./daemon.js";

export const teardownCommand: CliCommand = {
  name: "teardown",
  usage: "teardown [--purge]",
  summary: "destroy all workspaces, stop the daemon, detach the pool (--purge: delete the state dir)",
  options: { purge: { type: "boolean" } },
  async run(ctx, values) {
    const client = await ctx.daemon();
    const workspaces = await client.run(contracts.workspaceList, {});
    // Forks first: an origin with forks cannot be destroyed.
    for (const ws of [...workspaces].sort((a, b) => Number(b.forkedFrom !== undefined) - Number(a.forkedFrom !== undefined))) {
      await client.run(contracts.workspaceDestroy, { workspace: ws.name });
    }
    if (await isDaemonRunning(ctx.config)) await daemonCommand.run({ ...ctx, out: () => {} }, {}, ["stop"]);
    const { createStorage } = await import("../../compose/engine-factory.js");
    const storage = createStorage(ctx.config, resourceTagFor(ctx.config.home), ctx.logger);
    await storage.setup();
    await storage.close();
    if (values.purge) await rm(ctx.config.home, { recursive: true, force: true });
    ctx.out(`torn down ${ctx.config.home}: ${workspaces.length} workspaces destroyed${values.purge ? ", state dir deleted" : ""}\n`);
    return 0;
  },
};
