// Any image can hold a golden: which opencode its workers will run, checked once per golden
// (it runs here, with this image's libc, at the pinned version), and the host's pinned binary
// layered into the golden when the runtime shares none (VMs) or the image's is another version.
// Containers need no copy: the runtime bind-mounts the host's binary read-only at
// /.agentiso/bin/opencode in every workspace. opencode's config dir is seeded per run by
// worker-prep (buildOpencodeCommand's lockfile), so no image needs anything else for it.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { AgentisoError } from "../../core/errors.js";
import type { GuestClient } from "../../guest/guest-client.js";
import { runChecked, shellQuote } from "../../guest/run-checked.js";
import { OPENCODE_VERSION } from "./opencode-command.js";

/** Where opencode is looked for inside a workspace. */
export interface OpencodeGuestPaths {
  /** The runtime's shared read-only copy (containers), preferred when present. */
  shared: string;
  /** Where the pinned binary is layered in; a directory on searchPath. */
  layered: string;
  /** PATH workers run opencode with. */
  searchPath: string;
}

export const GUEST_OPENCODE_PATHS: OpencodeGuestPaths = {
  shared: "/.agentiso/bin/opencode",
  layered: "/usr/local/bin/opencode",
  searchPath: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
};

/** Where the golden's opencode comes from, and what making it available cost. */
export interface GoldenOpencode {
  source: "shared" | "image" | "layered";
  /** The path workers run. */
  binary: string;
  /** Bytes uploaded into the golden (0 unless layered). */
  layeredBytes: number;
  durationMs: number;
}

export interface GoldenOpencodeOptions {
  /** The host's pinned opencode (node_modules/opencode-linux-x64/bin/opencode); absent when not installed. */
  hostBinary?: string;
  /** Names the image in errors. */
  image: string;
  paths?: OpencodeGuestPaths;
  signal?: AbortSignal;
}

interface Probe {
  source: "shared" | "image" | "missing";
  binary: string;
  version: string;
}

// Makes the pinned opencode runnable in the golden (before its snapshot, so every fork has it).
export async function ensureGoldenOpencode(guest: GuestClient, options: GoldenOpencodeOptions): Promise<GoldenOpencode> {
  const started = performance.now();
  const paths = options.paths ?? GUEST_OPENCODE_PATHS;
  const found = await probeOpencode(guest, paths, options.signal);
  const done = (source: GoldenOpencode["source"], binary: string, layeredBytes: number): GoldenOpencode => ({ source, binary, layeredBytes, durationMs: Math.round(performance.now() - started) });
  if (found.source !== "missing" && found.version === OPENCODE_VERSION) return done(found.source, found.binary, 0);
  if (found.source === "shared") throw doesNotRun(options.image, found);
  const bytes = await layerHostBinary(guest, found, paths, options);
  const layered = await probeOpencode(guest, paths, options.signal);
  if (layered.binary !== paths.layered || layered.version !== OPENCODE_VERSION) throw doesNotRun(options.image, layered);
  return done("layered", layered.binary, bytes);
}

// One exec: the shared copy if the runtime mounted one, else opencode on PATH, and what its
// --version prints (a binary that cannot start here prints the loader's complaint instead).
async function probeOpencode(guest: GuestClient, paths: OpencodeGuestPaths, signal?: AbortSignal): Promise<Probe> {
  const script = [
    `if [ -x ${shellQuote(paths.shared)} ]; then b=${shellQuote(paths.shared)}; echo shared`,
    "elif b=$(command -v opencode); then echo image",
    "else echo missing; echo; exit 0; fi",
    'echo "$b"',
    // a throwaway HOME: opencode creates its XDG dirs even for --version, not in the golden
    't=$(mktemp -d); HOME=$t XDG_CONFIG_HOME=$t XDG_DATA_HOME=$t XDG_CACHE_HOME=$t XDG_STATE_HOME=$t "$b" --version 2>&1 | tail -n 1; rm -rf "$t"',
  ].join("; ");
  const result = await runChecked(guest, { shell: script }, { what: "looking for opencode", env: { PATH: paths.searchPath }, timeoutMs: 300_000, ...(signal && { signal }) });
  const [source = "missing", binary = "", version = ""] = result.stdout.split("\n").map((line) => line.trim());
  return { source: source as Probe["source"], binary, version };
}

async function layerHostBinary(guest: GuestClient, found: Probe, paths: OpencodeGuestPaths, options: GoldenOpencodeOptions): Promise<number> {
  const sizeBytes = options.hostBinary === undefined ? undefined : await stat(options.hostBinary).then((s) => s.size, () => undefined);
  if (options.hostBinary === undefined || sizeBytes === undefined) {
    const has = found.source === "missing" ? "has no opencode" : `has opencode ${found.version || "(unknown version)"} at ${found.binary}, not the pinned ${OPENCODE_VERSION}`;
    throw new AgentisoError("INVALID_STATE", `image ${options.image} ${has}, and this install has no pinned opencode to layer in${options.hostBinary === undefined ? "" : ` (${options.hostBinary} is missing: run npm ci)`}; use the opencode image or an install with opencode-linux-x64`);
  }
  return guest.upload(paths.layered, createReadStream(options.hostBinary), { mode: 0o755, maxBytes: sizeBytes }, options.signal ? { signal: options.signal } : {});
}

function doesNotRun(image: string, probe: Probe): AgentisoError {
  return new AgentisoError(
    "INVALID_STATE",
    `the pinned opencode ${OPENCODE_VERSION} does not run in image ${image}: ${probe.binary || "opencode"} --version said ${JSON.stringify(probe.version)} (opencode-linux-x64 needs glibc on x86_64; a musl or foreign-arch image cannot run workers)`,
    { details: { image, binary: probe.binary, version: probe.version } },
  );
}
