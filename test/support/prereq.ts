// Tests that need something the machine lacks skip WITH THE REASON. In CI (CI=true) a missing
// prerequisite is not a reason to skip: .ci/run installs everything, so the test runs and fails.
// `unsupported()` is the other kind: the platform cannot do it at all (zvols on zfs-fuse); it
// always skips, with its reason printed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const inCI = process.env.CI === "true" || process.env.CI === "1";

// Returns a skip reason for node:test's `skip` option, or false when the test should run.
export function requires(...checks: Array<[boolean, string]>): string | false {
  const missing = checks.filter(([ok]) => !ok).map(([, what]) => what);
  if (missing.length === 0 || inCI) return false;
  return `missing: ${missing.join(", ")}`;
}

export function unsupported(reason: string): string {
  return `unsupported here: ${reason}`;
}

export function hasCommand(name: string): [boolean, string] {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
  return [found, `${name} (apt-get install ${name})`];
}

export function isRoot(): [boolean, string] {
  return [process.getuid?.() === 0, "root privileges"];
}

export function hasPath(path: string, what: string): [boolean, string] {
  return [existsSync(path), what];
}
