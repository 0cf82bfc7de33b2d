// Who a call is charged to and what it may create: a client's sessions share its rate limit and
// its caps on workspaces and memory; the host's own sessions are limited one by one.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isAgentisoError } from "../../src/core/errors.js";
import type { WorkspaceRecord } from "../../src/engine/workspace-record.js";
import { ClientAdmission } from "../../src/operations/client-admission.js";
import { RateLimiter } from "../../src/operations/rate-limiter.js";
import { parseInput } from "../../src/contract/contract.js";
import type { Operation, OperationServices } from "../../src/operations/operation.js";
import { OPERATIONS } from "../../src/operations/registry.js";
import { clientOf, clientSession, mayAdopt } from "../../src/operations/session-scope.js";
import { hidingForeignForks } from "../../src/operations/session-view.js";
import { AgentisoError } from "../../src/core/errors.js";

const MIB = 1024 * 1024;
const op = (name: string): Operation => OPERATIONS.find((o) => o.name === name)!;

function setup(options: { burst?: number; maxWorkspaces?: number; maxMemoryMiB?: number } = {}) {
  const workspaces: Array<Pick<WorkspaceRecord, "id" | "name" | "owner" | "memoryMiB">> = [];
  const engine = { workspaces: { list: () => workspaces } } as unknown as OperationServices["engine"];
  const perMinute = 60;
  const limiter = new RateLimiter({ create: { perMinute, burst: options.burst ?? 100 }, exec: { perMinute, burst: 100 }, other: { perMinute, burst: 100 } }, () => 0);
  const caps = { name: "alice", maxWorkspaces: options.maxWorkspaces ?? 100, ...(options.maxMemoryMiB !== undefined && { maxMemoryBytes: options.maxMemoryMiB * MIB }) };
  const admission = new ClientAdmission({ limiter, clients: [caps], engine: () => engine, defaultMemoryBytes: 512 * MIB });
  const admit = (name: string, args: Record<string, unknown>, session: string | undefined) => admission.admit(op(name), parseInput(op(name), args), session);
  return { workspaces, admit };
}

const quota = (pattern: RegExp) => (err: unknown) => isAgentisoError(err, "QUOTA_EXCEEDED") && pattern.test(err.message);

describe("client admission", () => {
  test("a client's sessions are scoped under it; only its own may adopt from each other, the host's adopt only unowned ones", () => {
    assert.equal(clientSession("alice", "s1"), "alice:s1");
    assert.equal(clientOf("alice:s1"), "alice");
    assert.equal(clientOf("agent-a"), undefined);
    assert.ok(mayAdopt("alice:s2", "alice:s1"));
    assert.ok(!mayAdopt("bob:s1", "alice:s1"));
    assert.ok(!mayAdopt("alice:s1", undefined), "a client cannot take the operator's CLI workspaces");
    assert.ok(mayAdopt("agent-a", undefined));
    assert.ok(!mayAdopt("agent-a", "agent-b"));
    assert.ok(!mayAdopt("agent-a", "alice:s1"));
  });

  test("all sessions of a client share its rate limit, charged by cost; another client and host sessions have their own", () => {
    const { admit } = setup({ burst: 3 });
    admit("workspace_fork", { workspace: "w", snapshot: "s", count: 3 }, "alice:s1");
    assert.throws(() => admit("workspace_create", {}, "alice:s2"), quota(/create tools reached/), "a new session buys no new calls");
    admit("workspace_create", {}, "bob:s1");
    admit("workspace_batch_fork", { workspace: "w", snapshot: "s", count: 3 }, "agent-a");
    assert.throws(() => admit("workspace_create", {}, "agent-a"), quota(/create tools reached/));
    admit("workspace_create", {}, "agent-b");
    assert.equal(admit("workspace_create", {}, undefined), undefined, "the CLI is not limited");
  });

  test("a client may own at most maxWorkspaces, counting those its calls in flight are creating", () => {
    const { workspaces, admit } = setup({ maxWorkspaces: 3 });
    workspaces.push({ id: "1", name: "a1", owner: "alice:s1", memoryMiB: 512 }, { id: "2", name: "b1", owner: "bob:s1", memoryMiB: 512 }, { id: "3", name: "h", owner: undefined, memoryMiB: 512 });
    const release = admit("workspace_fork", { workspace: "a1", snapshot: "s", count: 2 }, "alice:s2");
    assert.throws(() => admit("workspace_create", { memory: "128M" }, "alice:s1"), quota(/client alice has 3 of its 3 workspaces \(counting those being created\); this call would add 1/));
    assert.doesNotThrow(() => admit("workspace_create", {}, "bob:s1"), "bob has no caps configured");
    release!();
    const again = admit("workspace_create", {}, "alice:s1");
    again!();
    const plan = { golden: { repo: "/r" }, run: { max_parallel: 2 }, task: ["a", "b", "c", "d", "e"].map((name) => ({ name, prompt: "p" })) };
    assert.throws(() => admit("orchestrate", { plan, baseDir: "/", resultsDir: "/r" }, "alice:s1"), quota(/has 1 of its 3 workspaces .*this call would add 5/), "an orchestration holds its golden and 2 workers per slot");
  });

  test("a client's workspaces may be given at most maxMemory together: forks count their origin's memory", () => {
    const { workspaces, admit } = setup({ maxMemoryMiB: 1536 });
    workspaces.push({ id: "1", name: "big", owner: "alice:s1", memoryMiB: 1024 });
    assert.throws(() => admit("workspace_fork", { workspace: "big", snapshot: "s" }, "alice:s1"), quota(/given 1024 MiB of its 1536 MiB of memory; this call would add 1024 MiB/));
    assert.throws(() => admit("workspace_create", { memory: "2G" }, "alice:s1"), quota(/would add 2048 MiB/));
    admit("workspace_create", {}, "alice:s1"); // the default 512 MiB fits
  });

  test("a has-forks conflict names only the session's own forks and counts the others", async () => {
    const owners: Record<string, string | undefined> = { "mine-1": "alice:s1", "theirs-1": "bob:s1", "cli-fork": undefined };
    const engine = { workspaces: { get: (name: string) => ({ name, owner: owners[name] }) } };
    const ctx = { session: "alice:s1", services: { engine } } as unknown as Parameters<typeof hidingForeignForks>[0];
    const conflict = new AgentisoError("CONFLICT", "snapshot base of w has forks (mine-1, theirs-1, cli-fork): destroy them first", { details: { forks: ["mine-1", "theirs-1", "cli-fork"] } });
    await assert.rejects(
      hidingForeignForks(ctx, "snapshot base of w", () => Promise.reject(conflict)),
      (err: unknown) => err instanceof AgentisoError && err.message === "snapshot base of w has forks (mine-1, 2 workspaces outside this session): destroy them first" && JSON.stringify(err.details) === '{"forks":["mine-1"],"otherForks":2}',
    );
    await assert.rejects(hidingForeignForks({ ...ctx, session: undefined }, "snapshot base of w", () => Promise.reject(conflict)), (err: unknown) => err === conflict, "the CLI sees every name");
  });

  test("exec_parallel costs one call per run", () => {
    const { admit } = setup();
    const runs = Array.from({ length: 64 }, () => ({ workspace: "w", command: "true" }));
    admit("exec_parallel", { runs }, "alice:s1");
    admit("exec_parallel", { runs: runs.slice(0, 36) }, "alice:s1");
    assert.throws(() => admit("exec", { workspace: "w", command: "true" }, "alice:s1"), quota(/exec tools reached/));
  });
});
