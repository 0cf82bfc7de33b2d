// The owner check, audited over EVERY operation of the registry, terminal ones included (a new operation fails this test
// until it is listed here): session B naming session A's workspace — by name or id, at the top
// level or nested (exec_parallel runs, an orchestrate plan's golden.workspace) — gets NOT_FOUND
// in the very words a missing workspace gets, so neither existence nor names leak. Answers that
// would mention other workspaces (a snapshot's forks, a fork's origin, a blocked destroy) name
// only the session's own. Runs over the engine with fake storage and runtime.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.js";
import type { EngineDeps, GuestLink } from "../../src/engine/engine-deps.js";
import type { GuestClient } from "../../src/guest/guest-client.js";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { sessionTransferDir } from "../../src/core/host-paths.js";
import { parseInput } from "../../src/contract/contract.js";
import type { OperationContext, OperationServices } from "../../src/operations/operation.js";
import { OPERATIONS, TERMINAL_OPERATIONS } from "../../src/operations/registry.js";
import type { TerminalChannel } from "../../src/operations/terminal-channel.js";
import { FakeStorage } from "../support/fake-storage.js";
import { FakeRuntime, noTunnels } from "../support/fake-runtime.js";

const DEFAULTS = { image: "base", runtime: "container" as const, memoryMiB: 512, cpus: 1, diskBytes: 1 << 30, pidsLimit: 256, network: "none" as const };

// For each operation: the arguments that name workspace REF, or null when it names none.
const CASES: Record<string, ((ref: string) => Record<string, unknown>) | null> = {
  workspace_create: null,
  workspace_list: null,
  workspace_pool: null,
  workspace_prepare: null,
  workspace_destroy: (ref) => ({ workspace: ref }),
  workspace_start: (ref) => ({ workspace: ref }),
  workspace_stop: (ref) => ({ workspace: ref }),
  workspace_info: (ref) => ({ workspace: ref }),
  workspace_logs: (ref) => ({ workspace: ref }),
  workspace_network: (ref) => ({ workspace: ref, mode: "egress" }),
  network_policy: (ref) => ({ workspace: ref, allow: ["registry.npmjs.org"] }),
  workspace_adopt: (ref) => ({ workspace: ref }),
  port_forward: (ref) => ({ workspace: ref, action: "add", guestPort: 3000 }),
  workspace_pause: (ref) => ({ workspace: ref }),
  workspace_resume: (ref) => ({ workspace: ref }),
  workspace_lifecycle: (ref) => ({ workspace: ref, ttl: "1h" }),
  exec: (ref) => ({ workspace: ref, command: "true" }),
  exec_background: (ref) => ({ workspace: ref, action: "list" }),
  exec_parallel: (ref) => ({ runs: [{ workspace: ref, command: "true" }] }),
  "exec_parallel (workspaces)": (ref) => ({ workspaces: [ref], command: "true" }),
  set_env: (ref) => ({ workspace: ref, vars: { A: "1" } }),
  file_read: (ref) => ({ workspace: ref, path: "/etc/hostname" }),
  file_write: (ref) => ({ workspace: ref, path: "/tmp/x", content: "x" }),
  file_edit: (ref) => ({ workspace: ref, path: "/tmp/x", oldText: "a", newText: "b" }),
  file_list: (ref) => ({ workspace: ref, path: "/" }),
  file_stat: (ref) => ({ workspace: ref, path: "/etc/hostname" }),
  file_mkdir: (ref) => ({ workspace: ref, path: "/tmp/d" }),
  file_delete: (ref) => ({ workspace: ref, path: "/tmp/x" }),
  file_move: (ref) => ({ workspace: ref, from: "/tmp/x", to: "/tmp/y" }),
  file_transfer: (ref) => ({ workspace: ref, direction: "upload", hostPath: "in.txt", workspacePath: "/tmp/in.txt" }),
  snapshot: (ref) => ({ workspace: ref, action: "list" }),
  workspace_fork: (ref) => ({ workspace: ref, snapshot: "s1" }),
  workspace_batch_fork: (ref) => ({ workspace: ref, snapshot: "s1", count: 1 }),
  git_clone: (ref) => ({ workspace: ref, url: "https://example.com/r.git" }),
  git_status: (ref) => ({ workspace: ref }),
  git_diff: (ref) => ({ workspace: ref }),
  git_commit: (ref) => ({ workspace: ref, message: "m" }),
  git_log: (ref) => ({ workspace: ref }),
  git_checkout: (ref) => ({ workspace: ref, ref: "main" }),
  // the target first; sources are checked by the test below
  workspace_merge: (ref) => ({ target: ref, sources: ["src-of-b"] }),
  orchestrate: (ref) => ({ plan: { golden: { workspace: ref, snapshot: "s1" }, task: [{ name: "t", prompt: "p" }] }, baseDir: ".", resultsDir: "results" }),
  workspace_shell: (ref) => ({ workspace: ref, rows: 24, cols: 80 }),
};

/** What a terminal operation gets from its front door; these tests never get as far as using it. */
const NO_TERMINAL: TerminalChannel = { started: () => {}, write: async () => {}, input: { [Symbol.asyncIterator]: async function* () {} } };

async function withServices(fn: (services: OperationServices, transferDir: string) => Promise<void>): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "seca-ownership-"));
  const storage = new FakeStorage();
  const runtime = new FakeRuntime();
  const deps: EngineDeps<GuestLink> = {
    stateDir,
    tag: resourceTagFor(stateDir),
    logger: silentLogger,
    storage,
    runtimes: { container: runtime },
    images: { ensureBase: async (image) => (await storage.importBase(image)).name },
    guests: { connect: async () => ({ close: async () => {} }), syncDisk: async () => {}, setHostname: async () => {}, openTunnel: noTunnels },
  };
  const { engine } = await Engine.open(deps, DEFAULTS);
  const transferDir = join(stateDir, "transfer");
  try {
    await fn({ engine: engine as unknown as Engine<GuestClient>, transferDir }, transferDir);
  } finally {
    await engine.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

// Runs operation `name` as `session` (undefined: the host's root); resolves with its answer or the error.
async function run(services: OperationServices, session: string | undefined, name: string, args: Record<string, unknown>): Promise<{ result?: unknown; error?: Error }> {
  const terminal = TERMINAL_OPERATIONS.find((op) => op.name === name.split(" ")[0]);
  const operation = terminal ?? OPERATIONS.find((op) => op.name === name.split(" ")[0])!;
  const ctx: OperationContext = { services, signal: AbortSignal.timeout(20_000), logger: silentLogger, ...(session !== undefined && { session }), ...(terminal && { terminal: NO_TERMINAL }) };
  try {
    return { result: await operation.run(ctx, parseInput(operation, args)) };
  } catch (error) {
    return { error: error as Error };
  }
}

// The error of a call, looking inside exec_parallel's per-entry answers.
function failureOf(answer: { result?: unknown; error?: Error }): { code: string; message: string } | undefined {
  if (answer.error) return isAgentisoError(answer.error) ? { code: answer.error.code, message: answer.error.message } : { code: "THROWN", message: String(answer.error) };
  if (Array.isArray(answer.result) && (answer.result[0] as { ok?: boolean })?.ok === false) return (answer.result[0] as { error: { code: string; message: string } }).error;
  return undefined;
}

describe("ownership across every operation", () => {
  test("the audit covers every operation of the registry", () => {
    assert.deepEqual([...OPERATIONS, ...TERMINAL_OPERATIONS].map((op) => op.name).filter((name) => !(name in CASES)), [], "add the new operation to CASES");
  });

  test("session B naming session A's workspace by id or name gets NOT_FOUND, worded exactly as for a missing one", () =>
    withServices(async (services, transferDir) => {
      const owned = await services.engine.workspaces.create({ name: "alpha-secret", owner: "session-a" });
      await services.engine.snapshots.create(owned.id, "s1");
      mkdirSync(sessionTransferDir(transferDir, "session-b"), { recursive: true });
      writeFileSync(join(sessionTransferDir(transferDir, "session-b"), "in.txt"), "x");
      for (const [name, args] of Object.entries(CASES)) {
        if (args === null) continue;
        for (const ref of [owned.id, owned.name]) {
          const failure = failureOf(await run(services, "session-b", name, args(ref)));
          assert.equal(failure?.code, "NOT_FOUND", `${name} with ${ref}: ${JSON.stringify(failure)}`);
          const missing = failureOf(await run(services, "session-b", name, args("no-such-ws")));
          assert.equal(failure!.message.replaceAll(ref, "REF"), missing!.message.replaceAll("no-such-ws", "REF"), `${name}: same words as a missing workspace`);
          if (ref === owned.id) assert.ok(!failure!.message.includes("alpha-secret"), `${name} does not reveal the name: ${failure!.message}`);
        }
      }
      assert.deepEqual((await run(services, "session-b", "workspace_list", {})).result, []);
      const after = services.engine.workspaces.get(owned.id);
      assert.deepEqual([after.state, after.owner, after.network], ["running", "session-a", "none"], "nothing B tried changed A's workspace");
      assert.deepEqual(services.engine.snapshots.list(owned.id).map((s) => s.name), ["s1"]);
      assert.equal(services.engine.workspaces.list().length, 1, "no fork, golden or worker was created for B");
    }));

  test("workspace_merge checks every source as it checks the target: another session's workspace as a source is NOT_FOUND and nothing runs", () =>
    withServices(async (services) => {
      const theirs = await services.engine.workspaces.create({ name: "their-ws", owner: "session-a" });
      await services.engine.workspaces.create({ name: "my-target", owner: "session-b" });
      await services.engine.workspaces.create({ name: "my-source", owner: "session-b" });
      for (const ref of [theirs.id, theirs.name]) {
        const failure = failureOf(await run(services, "session-b", "workspace_merge", { target: "my-target", sources: ["my-source", ref] }));
        const missing = failureOf(await run(services, "session-b", "workspace_merge", { target: "my-target", sources: ["my-source", "no-such-ws"] }));
        assert.equal(failure?.code, "NOT_FOUND", JSON.stringify(failure));
        assert.equal(failure!.message.replaceAll(ref, "REF"), missing!.message.replaceAll("no-such-ws", "REF"));
      }
      const itself = failureOf(await run(services, "session-b", "workspace_merge", { target: "my-target", sources: ["my-target"] }));
      assert.equal(itself?.code, "INVALID_INPUT");
      const twice = failureOf(await run(services, "session-b", "workspace_merge", { target: "my-target", sources: ["my-source", "my-source"] }));
      assert.equal(twice?.code, "INVALID_INPUT");
    }));

  test("answers mention only the session's own workspaces: a snapshot's forks, a fork's origin, the forks that block a destroy", () =>
    withServices(async (services) => {
      const mine = await services.engine.workspaces.create({ name: "mine", owner: "session-a" });
      await services.engine.snapshots.create(mine.id, "s1");
      await services.engine.snapshots.fork(mine.id, { snapshot: "s1", name: "my-fork", owner: "session-a" });
      const [cliFork] = await services.engine.snapshots.fork(mine.id, { snapshot: "s1", name: "root-private-fork" });
      const listed = (await run(services, "session-a", "snapshot", { workspace: "mine", action: "list" })).result as Array<{ dependents: string[] }>;
      assert.deepEqual(listed[0]!.dependents, ["my-fork"]);
      const info = (await run(services, "session-a", "workspace_info", { workspace: "mine" })).result as { snapshots: Array<{ dependents: string[] }> };
      assert.deepEqual(info.snapshots[0]!.dependents, ["my-fork"]);
      for (const [name, args] of [["workspace_destroy", { workspace: "mine" }], ["snapshot", { workspace: "mine", action: "delete", name: "s1" }]] as const) {
        const failure = failureOf(await run(services, "session-a", name, args));
        assert.equal(failure?.code, "CONFLICT");
        assert.match(failure!.message, /my-fork, 1 workspace outside this session/);
        assert.ok(!failure!.message.includes("root-private-fork"), failure!.message);
      }
      assert.match(failureOf(await run(services, undefined, "workspace_destroy", { workspace: "mine" }))!.message, /root-private-fork/, "the host's root still sees everything");
      // B adopts the unowned fork of A's workspace: where it came from is not B's to know.
      const adopted = (await run(services, "session-b", "workspace_adopt", { workspace: cliFork!.id })).result as { forkedFrom?: unknown };
      assert.equal(adopted.forkedFrom, undefined);
      const bInfo = (await run(services, "session-b", "workspace_info", { workspace: cliFork!.id })).result as { forkedFrom?: unknown };
      assert.equal(bInfo.forkedFrom, undefined);
      assert.ok(!JSON.stringify((await run(services, "session-b", "workspace_list", {})).result).includes('"mine"'));
      const aInfo = (await run(services, "session-a", "workspace_info", { workspace: "my-fork" })).result as { forkedFrom?: { workspace: string } };
      assert.equal(aInfo.forkedFrom?.workspace, "mine", "a session sees the origin of its own forks");
    }));
});
