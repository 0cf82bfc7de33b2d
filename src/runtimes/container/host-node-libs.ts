// The host's node runs inside a workspace (agentNode = "host"), but exec'd there it would be
// loaded by the workspace's own ld.so, with the workspace's libc and /etc/ld.so.preload: code
// the workspace chose, inside a binary the host trusts. So the agent starts through the host's
// loader and libraries, copied once into a root-owned directory bind-mounted read-only at
// /.agentiso/lib, run as `ld.so --inhibit-cache --library-path /.agentiso/lib node ...`
// (no ld.so.cache, no search of the workspace's dirs for node's libraries); oci-spec.ts masks
// /etc/ld.so.preload, which ld.so reads whatever its options.
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { runCommand } from "../../core/run-command.js";

export interface HostNodeLibs {
  /** Host directory with the loader and node's shared libraries (bind-mounted read-only). */
  dir: string;
  /** The loader's file name in dir, e.g. ld-linux-x86-64.so.2. */
  loader: string;
}

interface Library {
  name: string;
  path: string;
}

// Copies node's loader and libraries under root (once per distinct set); undefined for a static node.
export async function prepareHostNodeLibs(nodePath: string, root: string): Promise<HostNodeLibs | undefined> {
  const libraries = await librariesOf(nodePath);
  const loader = libraries.find((l) => l.name.startsWith("ld-"));
  if (!loader) return undefined;
  // named by what was copied: an upgraded libc on the host gets a new directory, running workspaces keep theirs
  const hash = createHash("sha256");
  for (const lib of libraries) {
    const st = await stat(lib.path);
    hash.update(`${lib.name}\0${lib.path}\0${st.size}\0${st.mtimeMs}\0`);
  }
  const dir = join(root, `libs-${hash.digest("hex").slice(0, 16)}`);
  if (await stat(dir).then(() => true, () => false)) return { dir, loader: loader.name };
  await mkdir(root, { recursive: true, mode: 0o755 });
  const temp = `${dir}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { mode: 0o755 });
  for (const lib of libraries) await copyFile(lib.path, join(temp, lib.name));
  await chmod(temp, 0o755);
  await rename(temp, dir).catch(async (err: unknown) => {
    await rm(temp, { recursive: true, force: true });
    // another daemon of the same state dir won the race: theirs is the same set
    if (!(await stat(dir).then(() => true, () => false))) throw err;
  });
  return { dir, loader: loader.name };
}

// `ldd node`, on the host: each library by the name node asks for, and the loader by its file name.
async function librariesOf(nodePath: string): Promise<Library[]> {
  const result = await runCommand(["ldd", nodePath], { check: false, timeoutMs: 10_000 });
  if (result.exitCode !== 0) return [];
  const libraries: Library[] = [];
  for (const line of result.stdout.split("\n")) {
    const linked = /^\s*(\S+) => (\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    const loader = /^\s*(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (linked) libraries.push({ name: linked[1]!, path: linked[2]! });
    else if (loader) libraries.push({ name: basename(loader[1]!), path: loader[1]! });
  }
  return libraries;
}
