// `agentiso dashboard [--open|--no-open]`: prints a URL of the daemon's web dashboard that
// signs a browser in once (within five minutes) and opens it when a browser is there: a
// terminal in a graphical session (DISPLAY or WAYLAND_DISPLAY) with xdg-open, or $BROWSER.
// --open opens it whatever the session, --no-open never does; --json only prints it.
import { spawn } from "node:child_process";
import type { CliCommand } from "../command.js";

export const dashboardCommand: CliCommand = {
  name: "dashboard",
  usage: "dashboard [--open|--no-open]",
  summary: "print a one-time sign-in URL of the web dashboard and open it when a browser is there (--open: always try, --no-open: never)",
  options: { open: { type: "boolean" }, "no-open": { type: "boolean" } },
  async run(ctx, values) {
    const client = await ctx.daemon();
    const { url } = await client.dashboardLogin({ timeoutMs: 10_000 });
    const browser = process.env.BROWSER;
    const graphical = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY || browser) && process.stdout.isTTY === true;
    const open = values["no-open"] !== true && (values.open === true || (graphical && !values.json));
    if (values.json) ctx.json({ url });
    else ctx.out(`${url}\n(the URL signs one browser in once, within 5 minutes; run again for another)\n`);
    if (open) {
      // $BROWSER may be a list (man 7 environ); its first entry is enough here
      const opener = spawn(browser?.split(":")[0] || "xdg-open", [url], { stdio: "ignore", detached: true });
      opener.on("error", () => process.stderr.write("cannot start a browser (xdg-open or $BROWSER): open the URL above\n"));
      opener.unref();
      if (!values.json) ctx.out("(opening it in your browser: the URL is then used)\n");
    }
    return 0;
  },
};
