// A dashboard without a daemon for unit tests: started on a free loopback port with one fake
// workspace row, plain HTTP requests, and signing in through a one-time login URL.
import assert from "node:assert/strict";
import { request } from "node:http";
import { Dashboard, type DashboardOptions } from "../../src/dashboard/dashboard.js";
import { transcriptOf } from "../../src/orchestrator/opencode/transcript.js";
import type { OperationInvoker } from "../../src/operations/invoke.js";
import { createLogger } from "../../src/core/logger.js";

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function get(port: number, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

export async function started(invoke: OperationInvoker["invoke"] = () => Promise.resolve(null), extra: Partial<DashboardOptions> = {}) {
  const rows = [{ name: "alpha", state: "running", runtime: "container", image: "base", network: "none", memoryMiB: 256, cpus: 1, diskBytes: 1, createdAt: new Date().toISOString() }];
  const dashboard = new Dashboard({ workspaces: () => rows, assets: () => ({ html: "<p>page</p>", js: "js", css: "css" }), logger: createLogger({ level: "error" }), transcriptOf, ...extra });
  dashboard.useInvoker({ invoke } as unknown as OperationInvoker);
  const { port } = await dashboard.listen({ host: "127.0.0.1", port: 0 });
  return { dashboard, port, rows };
}

export async function signIn(dashboard: Dashboard, port: number): Promise<string> {
  const login = await get(port, new URL(dashboard.loginUrl()!).pathname + new URL(dashboard.loginUrl()!).search);
  assert.equal(login.status, 303);
  const cookie = String(login.headers["set-cookie"]);
  assert.match(cookie, /HttpOnly; SameSite=Strict/);
  return cookie.split(";")[0]!;
}

