// The OCI runtimes as tests see them: which ones this host can run containers with (tests run
// the container contract under each: crun is the default where it works, runc the fallback),
// and the containers an engine holds, read from their state roots under its state dir
// (<home>/crun and <home>/runc: new containers go to the chosen runtime, older ones stay put).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { OciRuntimeName } from "../../src/runtimes/container/oci-cli.js";
import { chooseOciRuntime } from "../../src/runtimes/container/oci-runtime-choice.js";

const ROOTS: readonly OciRuntimeName[] = ["crun", "runc"];

// Each runtime with a skip reason when this host cannot use it (printed by node:test).
export async function ociRuntimesToTest(): Promise<Array<{ name: OciRuntimeName; skip: string | false }>> {
  return Promise.all(
    ROOTS.map(async (name) => ({ name, skip: await chooseOciRuntime(name).then(() => false as const, (err: Error) => `${name} cannot run here: ${err.message}`) })),
  );
}

export function ociContainerNames(home: string): string[] {
  return ROOTS.flatMap((root) => (existsSync(join(home, root)) ? readdirSync(join(home, root)) : []));
}

export function ociContainerExists(home: string, name: string): boolean {
  return ROOTS.some((root) => existsSync(join(home, root, name)));
}
