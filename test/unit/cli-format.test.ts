// The CLI's human tables: a workspace's next lifecycle deadline as people read it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nextDeadline, workspaceTable } from "../../src/cli/format.js";
import type { Workspace } from "../../src/contract/result-schemas.js";

const now = Date.parse("2026-12-07T12:00:00Z");
const at = (ms: number) => new Date(now + ms).toISOString();

test("the sooner of ttl and idle decides, with its action; none or no deadline is empty", () => {
  const idle = { action: "stop" as const, timeoutSeconds: 600, lastActivityAt: at(0), at: at(600_000) };
  assert.equal(nextDeadline({ ttl: { action: "destroy", at: at(7_140_000) }, idle }, now), "stop in 10m00s");
  assert.equal(nextDeadline({ ttl: { action: "destroy", at: at(7_140_000) } }, now), "destroy in 1h59m");
  assert.equal(nextDeadline({ idle: { ...idle, at: undefined } }, now), "");
  assert.equal(nextDeadline(undefined, now), "");
  assert.equal(nextDeadline({ ttl: { action: "stop", at: at(-5_000) } }, now), "stop in 0s");
});

test("ws ls shows the deadline in an EXPIRES column", () => {
  const workspace: Workspace = {
    id: "ws_1", name: "dev", state: "running", image: "base", runtime: "container", network: "none", memoryMiB: 512, cpus: 1,
    pidsLimit: 512, diskBytes: 0, createdAt: at(0), updatedAt: at(0), lifecycle: { ttl: { action: "destroy", at: at(3_600_000) } },
  };
  const [header, row] = workspaceTable([workspace], now).trimEnd().split("\n");
  assert.match(header!, /EXPIRES$/);
  assert.match(row!, /destroy in 1h00m$/);
});
