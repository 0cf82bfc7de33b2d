// `agentiso daemon [--foreground] | daemon status [--json] | daemon stop`.
import { request } from "node:http";
import { AgentisoError } from "../../core/errors.js";
import { ApiClient } from "../../api/api-client.js";
import type { CliCommand } from "../command.js";
import { controlSocketPath, daemonLogPath } from "../../config/paths.js";
import { waitForExit } from "../../core/process-state.js";
import { ensureDaemon, isDaemonRunning } from "../daemon-control.js";

export const daemonCommand: CliCommand = {
  name: "daemon",
  usage: "daemon [--foreground] | daemon status [--json] | daemon stop",
  summary: "run, inspect or stop the daemon that owns this state dir",
  options: { foreground: { type: "boolean" }, "ready-fd": { type: "string" } },
  async run(ctx, values, positionals) {
    const action = positionals[0] ?? "start";
    if (action === "start" && values.foreground) {
      const readyFd = typeof values["ready-fd"] === "string" ? Number(values["ready-fd"]) : undefined;
      const { runDaemon } = await import("../../compose/daemon.js");
      return runDaemon(ctx.config, ctx.logger, readyFd === undefined ? {} : { readyFd });
    }
    if (action === "start") {
      const client = await ensureDaemon(ctx.config);
      const health = await client.health();
      ctx.out(`daemon running (pid ${String(health.pid)}), socket ${controlSocketPath(ctx.config)}, log ${daemonLogPath(ctx.config)}\n`);
      return 0;
    }
    if (action === "status") {
      const running = await isDaemonRunning(ctx.config);
      const health = running ? await new ApiClient({ socketPath: controlSocketPath(ctx.config) }).health() : undefined;
      const status = { running, socket: controlSocketPath(ctx.config), log: daemonLogPath(ctx.config), ...health };
      if (values.json) ctx.json(status);
      else ctx.out(running ? `running (pid ${String(health?.pid)}, ${String(health?.workspaces)} workspaces)\n` : "not running\n");
      return running ? 0 : 3;
    }
    if (action === "stop") {
      if (!(await isDaemonRunning(ctx.config))) {
        ctx.out("not running\n");
        return 0;
      }
      const { pid } = await requestShutdown(controlSocketPath(ctx.config));
      if (!(await waitForExit(pid, 60_000))) throw new AgentisoError("TIMEOUT", `the daemon (pid ${pid}) did not exit within 60 s`);
      ctx.out(`stopped (pid ${pid}); workspaces keep running and are adopted by the next daemon\n`);
      return 0;
    }
    throw new AgentisoError("INVALID_INPUT", `unknown daemon action ${JSON.stringify(action)}: use status or stop`);
  },
};

function requestShutdown(socketPath: string): Promise<{ pid: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: "POST", path: "/v1/shutdown" }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve((JSON.parse(body) as { result: { pid: number } }).result));
    });
    req.on("error", reject);
    req.end();
  });
}
