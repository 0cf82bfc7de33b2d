// `agentiso serve` start-up: time from spawning the process to the answer of tools/list, through
// the official MCP SDK client over stdio (what an MCP client waits for before it can offer the
// tools). The target is < 300 ms. Baselines from the same run: `node -e ""` and
// `agentiso --version` (the bundled CLI's own load time). No daemon is needed or started.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { BenchPart } from "../index.js";
import { ms, percentile, ratio, sample } from "../stats.js";

const CLI = resolve(import.meta.dirname, "../../bin/agentiso.js");
const ROUNDS = 15;
const TARGET_MS = 300;

function runToExit(command: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: "ignore" });
    child.once("error", reject);
    child.once("close", () => resolvePromise());
  });
}

async function serveToToolsList(home: string): Promise<number> {
  const transport = new StdioClientTransport({ command: CLI, args: ["serve"], env: { ...process.env, AGENTISO_HOME: home } as Record<string, string>, stderr: "ignore" });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  const { tools } = await client.listTools();
  await client.close();
  return tools.length;
}

const part: BenchPart = {
  name: "mcp: agentiso serve, spawn to tools/list answered (stdio)",
  unavailable: async () => (existsSync(join(import.meta.dirname, "../../dist/cli.mjs")) ? undefined : "dist/cli.mjs missing (npm run build)"),
  async run(report) {
    const home = await mkdtemp(join(tmpdir(), "agentiso-bench-mcp-"));
    try {
      let tools = 0;
      const serve = await sample(ROUNDS, async () => (tools = await serveToToolsList(home)));
      const bareNode = await sample(ROUNDS, () => runToExit(process.execPath, ["-e", ""]));
      const version = await sample(ROUNDS, () => runToExit(CLI, ["--version"]));
      const p50 = percentile(serve, 50);
      report(`serve → tools/list (${tools} tools): p50 ${ms(p50)}, p95 ${ms(percentile(serve, 95))}, max ${ms(Math.max(...serve))}  (target < ${TARGET_MS} ms: ${percentile(serve, 95) < TARGET_MS ? "met" : "MISSED"})`);
      report(`baseline node -e "": p50 ${ms(percentile(bareNode, 50))}; agentiso --version: p50 ${ms(percentile(version, 50))} (serve = ${ratio(p50, percentile(version, 50))} of the CLI's load)`);
      report(`daemon started by serve: ${existsSync(join(home, "agentiso.sock")) ? "yes (unexpected)" : "no (tools/list needs none)"}`);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  },
};

export default part;
