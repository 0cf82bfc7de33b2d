// The SDK over a real control API server whose operations are stand-ins: what a method
// sends is the contract's input, what it returns the daemon's answer; and the invoker turns
// a result outside the contract into INTERNAL instead of passing it on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApiServer } from "../../src/api/api-server.js";
import { contracts } from "../../src/contract/registry.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
import { OperationInvoker } from "../../src/operations/invoke.js";
import { defineOperation, type Operation, type OperationServices } from "../../src/operations/operation.js";
import { connect } from "../../src/sdk/index.js";

const WORKSPACE = {
  id: "w1id",
  name: "w1",
  state: "running" as const,
  image: "base",
  runtime: "container" as const,
  network: "none" as const,
  memoryMiB: 256,
  cpus: 1,
  pidsLimit: 512,
  diskBytes: 0,
  createdAt: "2026-12-07T00:00:00.000Z",
  updatedAt: "2026-12-07T00:00:00.000Z",
};

async function withDaemon(operations: Operation[], body: (socketPath: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "ais-sdk-"));
  const socketPath = join(dir, "agentiso.sock");
  const invoker = new OperationInvoker({ operations, services: {} as OperationServices, logger: silentLogger });
  const server = await startApiServer({ socketPath, invoker, health: () => ({}) });
  try {
    await body(socketPath);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

test("workspace handles send the contract's input and hand back the daemon's answer", async () => {
  const seen: unknown[] = [];
  const operations = [
    defineOperation(contracts.workspaceCreate, { run: async (_ctx, input) => (seen.push(input), WORKSPACE) }),
    defineOperation(contracts.exec, {
      run: async (_ctx, input) => (seen.push(input), { exitCode: 0, signal: null, timedOut: false, truncated: false, stdout: "ok\n", stderr: "", durationMs: 1 }),
    }),
  ];
  await withDaemon(operations, async (socketPath) => {
    const agentiso = connect({ socketPath });
    const ws = await agentiso.workspaces.create({ image: "base", memory: "256M" });
    assert.equal(ws.name, "w1");
    const ran = await ws.exec("echo ok", { timeoutMs: 5000, workdir: "/tmp" });
    assert.equal(ran.stdout, "ok\n");
    assert.deepEqual(seen[0], { image: "base", memory: 256 * 1024 * 1024 });
    assert.deepEqual(seen[1], { workspace: "w1id", command: "echo ok", timeoutMs: 5000, workdir: "/tmp" }, "the command's timeout travels in the input");
  });
});

test("a handle pauses, resumes and opens a port through the lifecycle and port_forward contracts", async () => {
  const seen: Array<[string, unknown]> = [];
  const forward = { workspace: "w1", guestPort: 3000, hostPort: 41234, bind: "127.0.0.1", address: "127.0.0.1:41234", public: false, active: true, openConnections: 0, bytesToWorkspace: 0, bytesFromWorkspace: 0, createdAt: "2026-12-07T00:00:00.000Z" };
  const operations = [
    defineOperation(contracts.workspaceCreate, { run: async () => WORKSPACE }),
    defineOperation(contracts.workspacePause, { run: async (_ctx, input) => (seen.push(["pause", input]), { ...WORKSPACE, state: "paused" as const }) }),
    defineOperation(contracts.workspaceResume, { run: async (_ctx, input) => (seen.push(["resume", input]), WORKSPACE) }),
    defineOperation(contracts.portForward, { run: async (_ctx, input) => (seen.push(["port", input]), forward) }),
  ];
  await withDaemon(operations, async (socketPath) => {
    const ws = await connect({ socketPath }).workspaces.create({});
    assert.equal((await ws.pause()).state, "paused");
    assert.equal(ws.info.state, "paused", "the handle keeps what the daemon last said");
    assert.equal((await ws.resume()).state, "running");
    assert.equal((await ws.openPort(3000)).address, "127.0.0.1:41234");
    assert.deepEqual(seen, [["pause", { workspace: "w1id" }], ["resume", { workspace: "w1id" }], ["port", { workspace: "w1id", action: "add", guestPort: 3000 }]]);
  });
});

test("a result outside the operation's contract is INTERNAL, and a bad input INVALID_INPUT naming the field", async () => {
  const broken = defineOperation(contracts.workspaceCreate, { run: async () => ({ ...WORKSPACE, state: "sleeping" }) as unknown as typeof WORKSPACE });
  await withDaemon([broken], async (socketPath) => {
    const agentiso = connect({ socketPath });
    await assert.rejects(agentiso.workspaces.create({}), (err) => isAgentisoError(err, "INTERNAL") && /workspace_create returned a result outside its contract: state/.test(err.message));
    await assert.rejects(agentiso.operations.workspaceCreate({ cpus: "two" } as never), (err) => isAgentisoError(err, "INVALID_INPUT") && /cpus/.test(err.message));
    await assert.rejects(agentiso.operations.exec({ workspace: "w1", command: "ls" }), (err) => isAgentisoError(err, "NOT_FOUND") && /no operation exec/.test(err.message));
  });
});
