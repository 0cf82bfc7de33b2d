// What a rootfs must be before runc can start a container on it: a directory, owned by the
// shifted root of the user namespace, and reachable by that root through every ancestor.
// Each refusal says how to fix it.
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import { AgentisoError } from "../../core/errors.js";
import type { RootfsHandle } from "../../storage/storage-driver.js";

// Throws UNSUPPORTED, NOT_FOUND or INVALID_INPUT when runc could not use this rootfs.
export async function assertContainerRootfs(rootfs: RootfsHandle, shiftedRoot: number): Promise<void> {
  if (rootfs.kind !== "directory") throw new AgentisoError("UNSUPPORTED", "the container runtime needs a directory rootfs, not a block image");
  const root = await stat(rootfs.path).catch(() => undefined);
  if (!root?.isDirectory()) throw new AgentisoError("NOT_FOUND", `rootfs ${rootfs.path} is not a directory`);
  if (root.uid !== shiftedRoot) {
    throw new AgentisoError("INVALID_INPUT", `rootfs ${rootfs.path} is owned by uid ${root.uid}, not the shifted root ${shiftedRoot}: import the image through agentiso so it is uid-shifted`);
  }
  await assertTraversable(rootfs.path, shiftedRoot);
}

// runc mounts the rootfs from inside the user namespace: every ancestor must be searchable by
// the shifted root (uid and gid both the range's first id) — as others, as the owner, or as the
// group (the state dir is 0710 root:<that gid>, see core/state-dir.ts).
async function assertTraversable(path: string, shiftedRoot: number): Promise<void> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const st = await stat(dir);
    const searchable = (st.mode & 0o001) !== 0 || (st.uid === shiftedRoot && (st.mode & 0o100) !== 0) || (st.gid === shiftedRoot && (st.mode & 0o010) !== 0);
    if (!searchable) {
      throw new AgentisoError("INVALID_INPUT", `rootfs ${path} is unreachable for the workspace's root (uid ${shiftedRoot}): ${dir} has mode ${(st.mode & 0o777).toString(8)}; run \`chgrp ${shiftedRoot} ${dir} && chmod g+x ${dir}\``);
    }
    if (dir === "/") return;
  }
}
