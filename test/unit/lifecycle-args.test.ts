// What users type for lifecycle limits, and where the limits come from when they type none:
// the duration parser, the operations' arguments (a clear INVALID_INPUT otherwise), the
// [lifecycle] defaults per front door, and the CLI's --on-expire.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isAgentisoError } from "../../src/core/errors.js";
import { formatDuration, parseDurationSeconds } from "../../src/config/duration.js";
import { ConfigSchema } from "../../src/config/config.js";
import { parseInput } from "../../src/contract/contract.js";
import { contracts } from "../../src/contract/registry.js";
import { lifecycleLimits } from "../../src/operations/lifecycle-options.js";
import type { OperationContext } from "../../src/operations/operation.js";
import { lifecycleFlags } from "../../src/cli/lifecycle-flags.js";

describe("durations", () => {
  test("seconds, units, compounds and spelled-out units parse to whole seconds; none, off, never and 0 mean no limit", () => {
    const cases: Array<[string | number, number | null]> = [
      [90, 90], ["90", 90], ["90s", 90], ["30m", 1800], ["2h", 7200], ["1d", 86_400], ["1w", 604_800], ["1h30m", 5400], ["1h 30m", 5400],
      ["2 hours", 7200], ["45 min", 2700], ["1.5h", 5400], [" 2H ", 7200], ["none", null], ["off", null], ["never", null], ["0", null], [0, null],
    ];
    for (const [typed, seconds] of cases) assert.equal(parseDurationSeconds(typed), seconds, JSON.stringify(typed));
  });

  test("anything else is INVALID_INPUT that names what was typed and shows what works", () => {
    for (const typed of ["", "h", "2x", "soon", "1h-", "-5", "2h30", 1.5, -1, "400d"]) {
      assert.throws(() => parseDurationSeconds(typed, "ttl"), (err) => isAgentisoError(err, "INVALID_INPUT") && err.message.includes(JSON.stringify(typed)) && /ttl/.test(err.message), JSON.stringify(typed));
    }
  });

  test("formatDuration writes the shortest exact spelling", () => {
    assert.deepEqual([7200, 1800, 90, 5400, 86_400 + 3600, 45].map(formatDuration), ["2h", "30m", "1m30s", "1h30m", "1d1h", "45s"]);
  });
});

describe("lifecycle arguments and defaults", () => {
  const config = ConfigSchema.parse({ home: "/x" });
  const ctx = (session: string | undefined) => ({ services: { lifecycleDefaults: config.lifecycle }, ...(session !== undefined && { session }) }) as unknown as OperationContext;
  const create = (raw: Record<string, unknown>) => parseInput(contracts.workspaceCreate, raw);

  test("the config defaults: MCP sessions idle 2 h → stop and 24 h → destroy; the CLI none", () => {
    assert.deepEqual(lifecycleLimits(ctx("s1"), create({})), { ttl: { seconds: 86_400, action: "destroy" }, idle: { seconds: 7200, action: "stop" } });
    assert.equal(lifecycleLimits(ctx(undefined), create({})), undefined);
  });

  test("given limits win; none removes a default; an action alone changes the default's action", () => {
    assert.deepEqual(lifecycleLimits(ctx("s1"), create({ ttl: "1h", idleTimeout: "none" })), { ttl: { seconds: 3600, action: "destroy" } });
    assert.deepEqual(lifecycleLimits(ctx("s1"), create({ idleAction: "destroy", ttl: null })), { idle: { seconds: 7200, action: "destroy" } });
    assert.deepEqual(lifecycleLimits(ctx(undefined), create({ idleTimeout: 1800, ttl: "2d", ttlAction: "stop" })), {
      ttl: { seconds: 172_800, action: "stop" },
      idle: { seconds: 1800, action: "stop" },
    });
  });

  test("an action without a limit to act on, or a bad duration, is INVALID_INPUT before anything is created", () => {
    assert.throws(() => lifecycleLimits(ctx(undefined), create({ ttlAction: "stop" })), (err) => isAgentisoError(err, "INVALID_INPUT") && /ttlAction needs ttl/.test(err.message));
    assert.throws(() => create({ ttl: "forever" }), (err) => isAgentisoError(err, "INVALID_INPUT") && /ttl: invalid duration "forever"/.test(err.message));
    assert.throws(() => create({ idleAction: "explode" }), (err) => isAgentisoError(err, "INVALID_INPUT") && /idleAction/.test(err.message));
  });

  test("config.toml's [lifecycle] keys default one by one and refuse a bad duration", () => {
    const custom = ConfigSchema.parse({ home: "/x", lifecycle: { mcp: { idleTimeout: "30m" }, cli: { ttl: "8h", ttlAction: "stop" } } }).lifecycle;
    assert.deepEqual(custom.mcp, { ttl: 86_400, ttlAction: "destroy", idleTimeout: 1800, idleAction: "stop" });
    assert.deepEqual(custom.cli, { ttl: 28_800, ttlAction: "stop", idleTimeout: null, idleAction: "stop" });
    const bad = ConfigSchema.safeParse({ home: "/x", lifecycle: { mcp: { ttl: "a while" } } });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error!.issues[0]!.path, ["lifecycle", "mcp", "ttl"]);
  });

  test("the CLI's --on-expire sets the action of the limits given with it, and alone is refused", () => {
    assert.deepEqual(lifecycleFlags({ ttl: "1h", "on-expire": "stop" }), { ttl: "1h", ttlAction: "stop", idleTimeout: undefined, idleAction: undefined });
    assert.deepEqual(lifecycleFlags({ ttl: "1h", "idle-timeout": "5m", "on-expire": "destroy", "ttl-action": "stop" }), { ttl: "1h", ttlAction: "stop", idleTimeout: "5m", idleAction: "destroy" });
    assert.throws(() => lifecycleFlags({ "on-expire": "stop" }), (err) => isAgentisoError(err, "INVALID_INPUT"));
  });
});
