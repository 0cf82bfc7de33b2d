// Assembles the microVM initramfs: busybox-static with its applet links, /init (images/vm/init.sh),
// the virtio modules in load order, and the files /init stages into the workspace (tini-static,
// the guest agent bundle). The archive is reproducible: same inputs, same bytes.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { runCommand } from "../../core/run-command.js";
import { cpioNewc, type CpioEntry } from "./cpio-newc.js";

export type InitrdCompression = "gzip" | "none";

export interface InitramfsInputs {
  initScript: Buffer;
  busyboxPath: string;
  tini: Buffer;
  agentBundle: Buffer;
  /** Directory of the .ko files and their names in load order. */
  modulesDir: string;
  modules: string[];
  compression: InitrdCompression;
}

const DIRECTORIES = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "newroot", "lib", "lib/modules", "agentiso", "etc", "tmp"];

// Returns the initramfs image (cpio newc, optionally gzip-compressed).
export async function buildInitramfs(inputs: InitramfsInputs, signal?: AbortSignal): Promise<Buffer> {
  const entries: CpioEntry[] = DIRECTORIES.map((path) => ({ kind: "dir", path }));
  // The kernel opens /dev/console for init's stdio before /init can mount devtmpfs.
  entries.push({ kind: "chardev", path: "dev/console", major: 5, minor: 1 });
  entries.push({ kind: "file", path: "bin/busybox", data: await readFile(inputs.busyboxPath), mode: 0o755 });
  for (const applet of await busyboxApplets(inputs.busyboxPath, signal)) {
    if (applet !== "bin/busybox") entries.push({ kind: "symlink", path: applet, target: "/bin/busybox" });
  }
  entries.push({ kind: "file", path: "init", data: inputs.initScript, mode: 0o755 });
  entries.push({ kind: "file", path: "agentiso/tini", data: inputs.tini, mode: 0o755 });
  entries.push({ kind: "file", path: "agentiso/agent.cjs", data: inputs.agentBundle, mode: 0o644 });
  for (const module of inputs.modules) {
    entries.push({ kind: "file", path: `lib/modules/${module}`, data: await readFile(join(inputs.modulesDir, module)) });
  }
  entries.push({ kind: "file", path: "lib/modules/load-order", data: Buffer.from(inputs.modules.map((m) => m + "\n").join("")) });
  const archive = cpioNewc(entries);
  return inputs.compression === "gzip" ? gzipSync(archive, { level: 6 }) : archive;
}

// Paths (relative, e.g. "sbin/switch_root") of every applet the busybox binary provides.
async function busyboxApplets(busyboxPath: string, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await runCommand([busyboxPath, "--list-full"], { signal, timeoutMs: 10_000 });
  return stdout.split("\n").map((line) => line.trim().replace(/^\/+/, "")).filter(Boolean).sort();
}
