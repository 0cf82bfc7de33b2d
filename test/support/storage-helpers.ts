// Small helpers for storage tests: reach into a workspace's directory, compare whole trees,
// and tear down every workspace in dependency order (forks before their origins).
import { lstat, readFile, readdir, readlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { StorageDriver } from "../../src/storage/storage-driver.js";

// The directory a container runtime would use as the workspace's rootfs.
export async function directoryOf(driver: StorageDriver, workspace: string): Promise<string> {
  const handle = await driver.rootfs(workspace);
  if (handle.kind !== "directory") throw new Error(`workspace ${workspace} is a ${handle.format} block volume, not a directory`);
  return handle.path;
}

// Writes a file at the workspace's root.
export async function writeWorkspaceFile(driver: StorageDriver, workspace: string, file: string, content: string): Promise<void> {
  await writeFile(join(await directoryOf(driver, workspace), file), content);
}

// Every entry below root: regular files by mode and content, symlinks by target, dirs by mode.
export async function readTree(root: string): Promise<Record<string, string>> {
  const tree: Record<string, string> = {};
  const visit = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const info = await lstat(path);
      const key = relative(root, path);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) tree[key] = `link -> ${await readlink(path)}`;
      else if (info.isDirectory()) {
        tree[key] = `dir ${mode}`;
        await visit(path);
      } else tree[key] = `file ${mode} ${await readFile(path, "utf8")}`;
    }
  };
  await visit(root);
  return tree;
}

// Destroys every workspace of the driver, forks first, so nothing is refused for dependents.
export async function destroyAllWorkspaces(driver: StorageDriver): Promise<void> {
  let remaining = await driver.listWorkspaces();
  while (remaining.length > 0) {
    const origins = new Set(remaining.map((w) => w.forkedFrom?.workspace).filter(Boolean));
    const leaves = remaining.filter((w) => !origins.has(w.name));
    if (leaves.length === 0) throw new Error(`fork cycle among ${remaining.map((w) => w.name).join(", ")}`);
    await Promise.all(leaves.map((w) => driver.destroyWorkspace(w.name)));
    remaining = await driver.listWorkspaces();
  }
}
