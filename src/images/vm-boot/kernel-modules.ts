// Picks the kernel modules a microVM guest needs out of an extracted kernel package and
// orders them so each loads after its dependencies. Debian packages ship no modules.dep
// (depmod writes it at install time), so dependencies come from each module's own
// `.modinfo` section ("depends=a,b"). Built-in drivers (modules.builtin) are skipped.
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { AgentisoError } from "../../core/errors.js";

/** Drivers the guest cannot boot without: MMIO transport, disk, the agent's serial port, entropy. */
export const REQUIRED_MODULES = ["virtio_mmio", "virtio_blk", "virtio_console", "virtio_rng", "ext4"];
/** Loaded when the kernel has them: vsock transport (KVM fast path), networking, vmgenid reseed. */
export const OPTIONAL_MODULES = ["virtio_net", "vsock", "vmw_vsock_virtio_transport", "vmgenid"];

export interface ModuleFile {
  name: string;
  /** Path relative to lib/modules/<release>/. */
  path: string;
}

// Returns the modules (with dependencies, dependencies first) that are not built into the kernel.
export async function selectModules(moduleRoot: string, wanted = { required: REQUIRED_MODULES, optional: OPTIONAL_MODULES }): Promise<ModuleFile[]> {
  const files = await indexModules(join(moduleRoot, "kernel"));
  const builtin = await builtinModules(moduleRoot);
  const ordered: ModuleFile[] = [];
  const visiting = new Set<string>();
  const visit = async (name: string, chain: string[]): Promise<void> => {
    if (builtin.has(name) || ordered.some((m) => m.name === name)) return;
    const path = files.get(name);
    if (!path) throw new AgentisoError("BACKEND_FAILED", `kernel module ${name} (needed by ${chain.join(" → ") || "the guest"}) is neither built in nor shipped in ${moduleRoot}`);
    if (visiting.has(name)) return;
    visiting.add(name);
    for (const dep of await dependenciesOf(join(moduleRoot, path))) await visit(dep, [...chain, name]);
    ordered.push({ name, path });
  };
  for (const name of wanted.required) await visit(normalise(name), []);
  for (const name of wanted.optional.map(normalise)) if (files.has(name)) await visit(name, []);
  return ordered;
}

async function indexModules(dir: string): Promise<Map<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const index = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(".ko")) continue;
    index.set(normalise(entry.name.slice(0, -3)), relative(join(dir, ".."), join(entry.parentPath, entry.name)));
  }
  return index;
}

async function builtinModules(moduleRoot: string): Promise<Set<string>> {
  const text = await readFile(join(moduleRoot, "modules.builtin"), "utf8").catch(() => "");
  const names = text.split("\n").filter(Boolean).map((line) => normalise(line.split("/").pop()!.replace(/\.ko$/, "")));
  return new Set(names);
}

// The comma-separated `depends=` string of the module's .modinfo section.
async function dependenciesOf(modulePath: string): Promise<string[]> {
  const bytes = await readFile(modulePath);
  const start = bytes.indexOf("\0depends=");
  if (start < 0) return [];
  const end = bytes.indexOf(0, start + 1);
  const value = bytes.subarray(start + "\0depends=".length, end).toString("utf8");
  return value.split(",").filter(Boolean).map(normalise);
}

function normalise(name: string): string {
  return name.replace(/-/g, "_");
}
