// Root filesystems for container-runtime tests: the real base image (test/support/base-image.ts),
// uid-shifted ONCE per machine into a cache outside the repo, then one overlayfs per workspace
// over it (mount ~0.1 ms, nothing copied). The overlay is the test's stand-in for a storage
// driver's workspace volume; every mount is undone by the returned dispose().
import { existsSync } from "node:fs";
import { chown, mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import type { RootfsHandle } from "../../src/storage/storage-driver.js";
import { ensureBaseImage, testImageLibrary } from "./base-image.js";

export const SHIFT_BASE = 100_000;
const SHIFTED_CACHE = "/var/cache/agentiso-test/runtime-shifted";

let shifted: Promise<string> | undefined;

// The base image chowned by SHIFT_BASE, shared read-only by every test (built atomically once).
export function shiftedBaseRootfs(): Promise<string> {
  shifted ??= (async () => {
    const { manifest } = await ensureBaseImage();
    const dir = join(SHIFTED_CACHE, `base-${SHIFT_BASE}-${manifest.hash.slice(0, 16)}`);
    if (existsSync(join(dir, "usr/bin/node"))) return dir;
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    await testImageLibrary().materialize("base", tmp, { idShift: SHIFT_BASE });
    // another test process may have finished first: keep theirs
    await rename(tmp, dir).catch(() => rm(tmp, { recursive: true, force: true }));
    return dir;
  })();
  return shifted;
}

export interface TestRootfs {
  handle: RootfsHandle;
  dispose(): Promise<void>;
}

// An overlay (lower: the shifted base) mounted under dir; the merged root is owned by the shifted root.
export async function overlayRootfs(dir: string): Promise<TestRootfs> {
  const lower = await shiftedBaseRootfs();
  const [upper, work, merged] = ["upper", "work", "merged"].map((d) => join(dir, d)) as [string, string, string];
  for (const d of [upper, work, merged]) await mkdir(d, { recursive: true });
  await chown(upper, SHIFT_BASE, SHIFT_BASE);
  await runCommand(["mount", "-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
  return {
    handle: { kind: "directory", path: merged },
    dispose: async () => {
      await runCommand(["umount", merged], { check: false });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Mount points under prefix that are still mounted (a leak check).
export async function mountsUnder(prefix: string): Promise<string[]> {
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
  return mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((mountPoint) => mountPoint.startsWith(prefix));
}
