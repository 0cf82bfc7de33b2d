// deploy/grafana-dashboard.json stays true to the metrics: every query is valid PromQL
// (promtool checks them as recording rules) and names only metrics the daemon exports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { createMetrics } from "../../src/metrics/agentiso-metrics.js";
import { hasCommand, requires } from "../support/prereq.js";

const dashboard = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../deploy/grafana-dashboard.json"), "utf8")) as {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};
const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

test("every dashboard query names only metrics the daemon exports", async () => {
  const metrics = await createMetrics({ states: ["running"], countByState: () => ({}) });
  const exported = (await metrics.text()).body;
  const names = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:agentiso|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!)));
  assert.ok(names.size >= 8);
  for (const name of names) assert.match(exported, new RegExp(`^# TYPE ${name.replace(/_(bucket|sum|count)$/, "")} `, "m"), `${name} is exported`);
});

test("every dashboard query is valid PromQL", { skip: requires(hasCommand("promtool")) }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "agentiso-dash-"));
  try {
    const rules = exprs.map((e, i) => `      - record: dashboard:query${i}\n        expr: ${JSON.stringify(e.replaceAll("$job", ".*"))}`).join("\n");
    await writeFile(join(dir, "rules.yml"), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
    const result = await runCommand(["promtool", "check", "rules", join(dir, "rules.yml")], { check: false });
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
