// Where the installed package lives (images/, dist/, package.json), found by walking up from
// this module: the same answer from the bundled CLI, its chunks and the TypeScript sources.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AgentisoError } from "../core/errors.js";

/** The installed package's root (where images/ and dist/ live). */
export const PACKAGE_ROOT = findPackageRoot(fileURLToPath(new URL(".", import.meta.url)));

/** agentiso's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

function findPackageRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = resolve(dir, "..");
    if (parent === dir) throw new AgentisoError("INTERNAL", `cannot find agentiso's package.json above ${start}`);
    dir = parent;
  }
  return dir;
}
