// How the engine starts VM-like workspaces fast: memory-snapshot templates (capture once per
// base and resources, fork the frozen disk, resume the saved machine) and the warm pool
// (booted ahead, handed out renamed), over fake storage and a fake runtime.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.js";
import type { EngineDeps, GuestLink } from "../../src/engine/engine-deps.js";
import { POOL_OWNER } from "../../src/engine/warm-pool.js";
import { silentLogger } from "../../src/core/logger.js";
import { resourceTagFor } from "../../src/core/resource-tag.js";
import type { RuntimeInstance, RuntimeStartSpec } from "../../src/runtimes/workspace-runtime.js";
import { FakeStorage } from "../support/fake-storage.js";
import { FakeRuntime, noTunnels } from "../support/fake-runtime.js";

const DEFAULTS = { image: "base", runtime: "container" as const, memoryMiB: 512, cpus: 1, diskBytes: 1 << 30, pidsLimit: 256, network: "none" as const };

// A fake runtime that can "save" a booted machine: the memory file is a marker file.
class TemplatingRuntime extends FakeRuntime {
  readonly captures: RuntimeStartSpec[] = [];
  readonly starts: RuntimeStartSpec[] = [];
  async captureTemplate(spec: RuntimeStartSpec, memoryPath: string) {
    this.captures.push(spec);
    writeFileSync(memoryPath, "saved machine");
    return { sizeBytes: 13, durationMs: 1 };
  }
  async templateCompatibility() {
    return "fake-1";
  }
  override async start(spec: RuntimeStartSpec): Promise<RuntimeInstance> {
    this.starts.push(spec);
    return super.start(spec);
  }
}

interface Rig {
  engine: Engine;
  storage: FakeStorage;
  runtime: TemplatingRuntime;
  hostnames: string[];
}

function makeDeps(stateDir: string, options: { templates?: boolean; poolSize?: number }, hostnames: string[] = []) {
  const storage = new FakeStorage();
  const runtime = new TemplatingRuntime();
  const deps: EngineDeps<GuestLink> = {
    stateDir,
    tag: resourceTagFor(stateDir),
    logger: silentLogger,
    storage,
    runtimes: { container: runtime },
    images: { ensureBase: async (image) => (await storage.importBase(image)).name },
    guests: { connect: async () => ({ close: async () => {} }), syncDisk: async () => {}, setHostname: async (_g, name) => void hostnames.push(name), openTunnel: noTunnels },
    ...(options.templates && { bootTemplates: true }),
    ...(options.poolSize && { warmPool: { size: options.poolSize, runtime: "container" as const } }),
  };
  return { deps, storage, runtime };
}

async function withEngine(options: { templates?: boolean; poolSize?: number }, fn: (rig: Rig) => Promise<void>): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "agentiso-vm-start-"));
  const hostnames: string[] = [];
  const { deps, storage, runtime } = makeDeps(stateDir, options, hostnames);
  const { engine } = await Engine.open(deps, DEFAULTS);
  try {
    await fn({ engine, storage, runtime, hostnames });
  } finally {
    await engine.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

// Waits for the pool's background fill (a few event-loop turns of fake I/O).
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("memory-snapshot templates", () => {
  test("the first workspace captures a template once; every fresh workspace forks its disk and resumes its memory", () =>
    withEngine({ templates: true }, async ({ engine, storage, runtime }) => {
      const a = await engine.workspaces.create({ name: "a" });
      const b = await engine.workspaces.create({ name: "b" });
      assert.equal(runtime.captures.length, 1);
      const template = runtime.captures[0]!.workspaceId;
      assert.match(template, /^tmpl-[0-9a-f]{16}$/);
      for (const ws of [a, b]) {
        assert.deepEqual(storage.volumes.get(ws.id)?.info.forkedFrom, { workspace: template, snapshot: "ready" });
        const start = runtime.starts.find((s) => s.workspaceId === ws.id)!;
        assert.ok(start.fromTemplate && existsSync(start.fromTemplate.memoryPath));
      }
      assert.deepEqual(engine.workspaces.list().map((w) => w.name), ["a", "b"], "the template volume is not a workspace");
    }));

  test("other resources get their own template, and restarts and forks boot cold", () =>
    withEngine({ templates: true }, async ({ engine, runtime }) => {
      const a = await engine.workspaces.create({ name: "a" });
      await engine.workspaces.create({ name: "big", memoryMiB: 1024 });
      assert.equal(runtime.captures.length, 2);
      await engine.workspaces.stop(a.id);
      await engine.workspaces.start(a.id);
      await engine.snapshots.create(a.id, "s");
      const [fork] = await engine.snapshots.fork(a.id, { snapshot: "s" });
      const coldStarts = runtime.starts.filter((s) => s.workspaceId === a.id || s.workspaceId === fork!.id).slice(1);
      assert.deepEqual(coldStarts.map((s) => s.fromTemplate), [undefined, undefined]);
    }));

  test("a workspace in egress boots cold: templates hold no network device", () =>
    withEngine({ templates: true }, async ({ engine, storage, runtime }) => {
      const ws = await engine.workspaces.create({ name: "out", network: "egress" });
      assert.equal(runtime.captures.length, 0, "no template captured for it");
      const start = runtime.starts.find((s) => s.workspaceId === ws.id)!;
      assert.equal(start.fromTemplate, undefined);
      assert.equal(start.network, "egress");
      assert.equal(storage.volumes.get(ws.id)?.info.forkedFrom, undefined, "its disk comes from the base, not a template");
    }));

  test("reconcile after a restart keeps the template volume", async () => {
    await withEngine({ templates: true }, async ({ engine, storage }) => {
      await engine.workspaces.create({ name: "a" });
      const templates = [...storage.volumes.keys()].filter((n) => n.startsWith("tmpl-"));
      assert.equal(templates.length, 1);
      await engine.workspaces.destroy("a");
      assert.ok(storage.volumes.has(templates[0]!), "destroying a workspace keeps its template");
    });
  });
});

describe("warm pool", () => {
  test("fills in the background; a default create takes a pooled workspace, renamed, and the pool refills", () =>
    withEngine({ poolSize: 2 }, async ({ engine, hostnames }) => {
      await until(() => engine.workspaces.warmPool!.ready().length === 2);
      const pooledIds = engine.workspaces.warmPool!.ready().map((w) => w.id);
      assert.deepEqual(engine.workspaces.list(), [], "pooled workspaces are not listed");
      const ws = await engine.workspaces.create({ name: "mine", owner: "session-1" });
      assert.ok(pooledIds.includes(ws.id));
      assert.equal(ws.name, "mine");
      assert.equal(ws.owner, "session-1");
      assert.deepEqual(hostnames, ["mine"]);
      assert.deepEqual(engine.workspaces.list().map((w) => w.name), ["mine"]);
      await until(() => engine.workspaces.warmPool!.ready().length === 2);
    }));

  test("a create that asks for other settings or a taken name does not take a pooled workspace", () =>
    withEngine({ poolSize: 1 }, async ({ engine }) => {
      await until(() => engine.workspaces.warmPool!.ready().length === 1);
      const pooled = engine.workspaces.warmPool!.ready()[0]!;
      const big = await engine.workspaces.create({ name: "big", memoryMiB: 2048 });
      assert.notEqual(big.id, pooled.id);
      await assert.rejects(engine.workspaces.create({ name: "big" }), /already exists/);
      assert.equal(engine.workspaces.get(pooled.id).owner, POOL_OWNER, "a failed claim leaves the workspace pooled");
    }));

  test("pooled workspaces have no limits; one handed out gets the caller's, counted from the hand-out", () =>
    withEngine({ poolSize: 1 }, async ({ engine }) => {
      await until(() => engine.workspaces.warmPool!.ready().length === 1);
      const pooled = engine.workspaces.warmPool!.ready()[0]!;
      assert.equal(pooled.lifecycle, undefined, "the reaper has nothing to act on in the pool");
      const before = Date.now();
      const ws = await engine.workspaces.create({ name: "limited", lifecycle: { ttl: { seconds: 60, action: "destroy" }, idle: { seconds: 30, action: "stop" } } });
      assert.equal(ws.id, pooled.id);
      assert.ok(Date.parse(ws.lifecycle!.ttl!.at) >= before + 60_000);
      assert.ok(Date.parse(ws.lifecycle!.idle!.lastActivityAt) >= before, "idle from the hand-out, not from the boot");
    }));

  test("closing the engine destroys the pooled workspaces", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "agentiso-vm-pool-"));
    const { deps, storage, runtime } = makeDeps(stateDir, { poolSize: 2 });
    try {
      const { engine } = await Engine.open(deps, DEFAULTS);
      await until(() => engine.workspaces.warmPool!.ready().length === 2);
      await engine.close();
      assert.equal(runtime.instances.size, 0);
      assert.equal(storage.volumes.size, 0);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
