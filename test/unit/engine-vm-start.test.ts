// How the engine starts VM-like workspaces fast: memory-snapshot templates (capture once per
// base and resources, fork the frozen disk, resume the saved machine), over fake storage and a
// fake runtime. The warm pool has its own tests (warm-pool.test.ts).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.js";
import type { EngineDeps, GuestLink } from "../../src/engine/engine-deps.js";
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

function makeDeps(stateDir: string, options: { templates?: boolean }, hostnames: string[] = []) {
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
  };
  return { deps, storage, runtime };
}

async function withEngine(options: { templates?: boolean }, fn: (rig: Rig) => Promise<void>): Promise<void> {
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
