// `agentiso dashboard [--open]`: prints a URL of the daemon's web dashboard that signs a
// browser in once (within five minutes); --open also hands it to xdg-open.
import { spawn } from "node:child_process";
import type { CliCommand } from "../command.js";

export const dashboardCommand: CliCommand = {
  name: "dashboard",
  usage: "dashboard [--open]",
  summary: "print a one-time sign-in URL of the web dashboard (--open: open it in a browser)",
  options: { open: { type: "boolean" } },
  async run(ctx, values) {
    const client = await ctx.daemon();
    const { url } = await client.dashboardLogin({ timeoutMs: 10_000 });
    if (values.json) ctx.json({ url });
    else ctx.out(`${url}\n(the URL signs one browser in once, within 5 minutes; run again for another)\n`);
    if (values.open) {
      const opener = spawn("xdg-open", [url], { stdio: "ignore", detached: true });
      opener.on("error", () => process.stderr.write("cannot run xdg-open: open the URL above in a browser\n"));
      opener.unref();
    }
    return 0;
  },
};
