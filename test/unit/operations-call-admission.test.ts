// Who a call is charged to and what it may hold: a client's sessions share its rate limit and
// its quotas; every session has its own quotas, and the host's quotas cover every caller.
// Quotas count workspaces, memory, disk and running commands, in flight included.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isAgentisoError } from "../../src/core/errors.js";
import type { WorkspaceRecord } from "../../src/engine/workspace-record.js";
import { CallAdmission, type Quotas } from "../../src/operations/call-admission.js";
import { RateLimiter } from "../../src/operations/rate-limiter.js";
import { parseInput } from "../../src/contract/contract.js";
import type { Operation, OperationServices } from "../../src/operations/operation.js";
import { OPERATIONS } from "../../src/operations/registry.js";
import { clientOf, clientSession, mayAdopt } from "../../src/operations/session-scope.js";
import { hidingForeignForks } from "../../src/operations/session-view.js";
import { AgentisoError } from "../../src/core/errors.js";

const MIB = 1024 * 1024;
const op = (name: string): Operation => OPERATIONS.find((o) => o.name === name)!;

type Record_ = Pick<WorkspaceRecord, "id" | "name" | "owner" | "memoryMiB" | "diskBytes">;

function setup(options: { burst?: number; maxWorkspaces?: number; maxMemoryMiB?: number; quotas?: Partial<Quotas> } = {}) {
  const workspaces: Record_[] = [];
  const engine = { workspaces: { list: () => workspaces } } as unknown as OperationServices["engine"];
  const perMinute = 60;
  const limiter = new RateLimiter({ create: { perMinute, burst: options.burst ?? 100 }, exec: { perMinute, burst: 100 }, other: { perMinute, burst: 100 } }, () => 0);
  const caps = { name: "alice", maxWorkspaces: options.maxWorkspaces ?? 100, ...(options.maxMemoryMiB !== undefined && { maxMemoryBytes: options.maxMemoryMiB * MIB }) };
  const quotas: Quotas = { global: {}, clientSession: {}, hostSession: {}, clients: [caps], ...options.quotas };
  const admission = new CallAdmission({ limiter, quotas, engine: () => engine, defaults: { memoryBytes: 512 * MIB, diskBytes: 4096 * MIB } });
  const admit = (name: string, args: Record<string, unknown>, session: string | undefined) => admission.admit(op(name), parseInput(op(name), args), session);
  return { workspaces, admit };
}

const ws = (id: string, owner: string | undefined, memoryMiB = 512, diskMiB = 4096): Record_ => ({ id, name: `w${id}`, owner, memoryMiB, diskBytes: diskMiB * MIB });

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
    for (let i = 0; i < 5; i++) admit("workspace_create", {}, undefined)!(); // the CLI is not rate limited
  });

  test("a client may own at most maxWorkspaces, counting those its calls in flight are creating", () => {
    const { workspaces, admit } = setup({ maxWorkspaces: 3 });
    workspaces.push({ ...ws("1", "alice:s1"), name: "a1" }, ws("2", "bob:s1"), ws("3", undefined));
    const release = admit("workspace_fork", { workspace: "a1", snapshot: "s", count: 2 }, "alice:s2");
    assert.throws(() => admit("workspace_create", { memory: "128M" }, "alice:s1"), quota(/^workspaces quota of client alice: limit 3, in use 3 \(counting those being created\), this call asks for 1: destroy some first$/));
    assert.doesNotThrow(() => admit("workspace_create", {}, "bob:s1"), "bob has no caps configured");
    release!();
    const again = admit("workspace_create", {}, "alice:s1");
    again!();
    const plan = { golden: { repo: "/r" }, run: { max_parallel: 2 }, task: ["a", "b", "c", "d", "e"].map((name) => ({ name, prompt: "p" })) };
    assert.throws(() => admit("orchestrate", { plan, baseDir: "/", resultsDir: "/r" }, "alice:s1"), quota(/limit 3, in use 1 .*this call asks for 5/), "an orchestration holds its golden and 2 workers per slot");
  });

  test("a client's workspaces may be given at most maxMemory together: forks count their origin's memory", () => {
    const { workspaces, admit } = setup({ maxMemoryMiB: 1536 });
    workspaces.push({ ...ws("1", "alice:s1", 1024), name: "big" });
    assert.throws(() => admit("workspace_fork", { workspace: "big", snapshot: "s" }, "alice:s1"), quota(/^memory quota of client alice: limit 1536 MiB, in use 1024 MiB \(counting those being created\), this call asks for 1024 MiB/));
    assert.throws(() => admit("workspace_create", { memory: "2G" }, "alice:s1"), quota(/asks for 2048 MiB/));
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

  test("each session may hold at most its quota of workspaces: a client's sessions by [quotas.session], the host's by [quotas.hostSession]", () => {
    const { workspaces, admit } = setup({ quotas: { clientSession: { maxWorkspaces: 2 }, hostSession: { maxWorkspaces: 1 } } });
    workspaces.push(ws("1", "alice:s1"), ws("2", "agent-a"));
    const held = admit("workspace_create", {}, "alice:s1");
    assert.throws(() => admit("workspace_create", {}, "alice:s1"), quota(/^workspaces quota of session alice:s1: limit 2, in use 2 \(counting those being created\), this call asks for 1/));
    admit("workspace_create", {}, "alice:s2")!();
    assert.throws(() => admit("workspace_create", {}, "agent-a"), quota(/workspaces quota of session agent-a: limit 1, in use 1/));
    admit("workspace_create", {}, "agent-b")!();
    held!();
    admit("workspace_create", {}, "alice:s1")!();
    assert.doesNotThrow(() => admit("workspace_create", {}, undefined), "the operator has no session quota");
  });

  test("the host's quotas count every workspace and every caller, the operator's CLI included; the warm pool's idle VMs do not count", () => {
    const { workspaces, admit } = setup({ quotas: { global: { maxWorkspaces: 3 } } });
    workspaces.push(ws("1", "alice:s1"), ws("2", undefined), ws("3", "agentiso:warm-pool"));
    const held = admit("workspace_create", {}, "agent-a");
    assert.throws(() => admit("workspace_create", {}, undefined), quota(/^workspaces quota of the host: limit 3, in use 3 \(counting those being created\), this call asks for 1/));
    assert.throws(() => admit("workspace_batch_fork", { workspace: "w1", snapshot: "s", count: 2 }, "bob:s1"), quota(/the host: limit 3, in use 3/));
    held!();
    admit("workspace_create", {}, undefined)!();
  });

  test("memory and disk quotas add up the configured limits: a create's own, a fork's origin's, else the defaults", () => {
    const { workspaces, admit } = setup({ quotas: { global: { maxDiskBytes: 10240 * MIB }, hostSession: { maxMemoryBytes: 2048 * MIB } } });
    workspaces.push({ ...ws("1", "agent-a", 1024, 2048), name: "origin" });
    assert.throws(() => admit("workspace_create", { memory: "1536M" }, "agent-a"), quota(/^memory quota of session agent-a: limit 2048 MiB, in use 1024 MiB \(counting those being created\), this call asks for 1536 MiB: ask for less memory/));
    admit("workspace_create", { memory: "1G", disk: "1G" }, "agent-a")!();
    assert.throws(() => admit("workspace_fork", { workspace: "origin", snapshot: "s", count: 2 }, "agent-a"), quota(/memory quota of session agent-a: limit 2048 MiB, in use 1024 MiB .*asks for 2048 MiB/));
    assert.throws(() => admit("workspace_create", { disk: "9G" }, undefined), quota(/^disk quota of the host: limit 10240 MiB, in use 2048 MiB \(counting those being created\), this call asks for 9216 MiB: ask for less disk/));
    const held = admit("workspace_create", {}, undefined); // the default 4096 MiB of disk
    assert.throws(() => admit("workspace_create", { disk: "5G" }, "agent-b"), quota(/disk quota of the host: limit 10240 MiB, in use 6144 MiB .*asks for 5120 MiB/));
    admit("workspace_create", { disk: "4G" }, "agent-b")!();
    held!();
    admit("workspace_create", { disk: "8G" }, "agent-b")!();
  });

  test("concurrent execs: a running exec holds its slot until it returns; exec_parallel holds one per run; other tools never wait on it", () => {
    const { admit } = setup({ quotas: { clientSession: { maxConcurrentExecs: 2 }, global: { maxConcurrentExecs: 3 } } });
    const slow = admit("exec", { workspace: "w", command: "sleep 60" }, "alice:s1");
    const second = admit("exec", { workspace: "w", command: "true" }, "alice:s1");
    assert.throws(() => admit("exec", { workspace: "w", command: "true" }, "alice:s1"), quota(/^concurrent execs quota of session alice:s1: limit 2, in use 2 \(running now\), this call asks for 1: wait for a running command to finish$/));
    assert.throws(() => admit("exec_parallel", { workspaces: ["a", "b"], command: "true" }, "alice:s2"), quota(/concurrent execs quota of the host: limit 3, in use 2 \(running now\), this call asks for 2/));
    admit("exec_background", { workspace: "w", action: "list" }, "alice:s1")!();
    admit("file_read", { workspace: "w", path: "/x" }, "alice:s1")!();
    second!();
    second!(); // a release counts once
    const third = admit("exec", { workspace: "w", command: "true" }, "alice:s1");
    const fourth = admit("exec", { workspace: "w", command: "true" }, "alice:s2");
    assert.throws(() => admit("exec", { workspace: "w", command: "true" }, undefined), quota(/the host: limit 3, in use 3/), "the operator's commands count for the host");
    slow!();
    third!();
    fourth!();
    admit("exec", { workspace: "w", command: "true" }, undefined)!();
  });

  test("a call refused by the rate limit releases the quota it held", () => {
    const { admit } = setup({ burst: 1, quotas: { hostSession: { maxWorkspaces: 1 } } });
    admit("workspace_create", {}, "agent-a")!();
    assert.throws(() => admit("workspace_create", {}, "agent-a"), quota(/create tools reached/));
    admit("workspace_create", {}, "agent-b")!();
  });
});
