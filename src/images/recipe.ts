// Image recipes are bash scripts in images/ (images/<name>.sh). A recipe may name a parent
// in a header line `# parent: <name>`; the builder then starts it from a copy of the
// parent's rootfs instead of an empty directory. Files in images/lib/ are shared helpers
// that recipes source, so they are part of every recipe's cache key.
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import { assertValidName } from "../core/names.js";

/** Bump when the builder's output for the same recipe changes (layout, manifest, cleanup). */
export const IMAGE_FORMAT_VERSION = 1;

export interface Recipe {
  name: string;
  /** Absolute path of the recipe script. */
  path: string;
  parent: string | null;
  /** sha256 over the format version, the recipe, images/lib/* and the parent's key. */
  key: string;
}

const PARENT_LINE = /^#\s*parent:\s*(\S+)\s*$/m;

// Lists the recipe names found in recipesDir (every `<name>.sh`), sorted.
export async function listRecipes(recipesDir: string): Promise<string[]> {
  const entries = await readdir(recipesDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".sh"))
    .map((e) => e.name.slice(0, -3))
    .sort();
}

// Loads a recipe and computes its cache key; NOT_FOUND when there is no such recipe.
export async function loadRecipe(recipesDir: string, name: string, seen: string[] = []): Promise<Recipe> {
  assertValidName(name, "image recipe name");
  if (seen.includes(name)) {
    throw new AgentisoError("INVALID_INPUT", `image recipes form a cycle: ${[...seen, name].join(" -> ")}`);
  }
  const path = join(recipesDir, `${name}.sh`);
  const text = await readRecipeText(recipesDir, name, path);
  const parentName = PARENT_LINE.exec(text)?.[1] ?? null;
  const parent = parentName === null ? null : await loadRecipe(recipesDir, parentName, [...seen, name]);
  const hash = createHash("sha256");
  hash.update(`agentiso-image-format:${IMAGE_FORMAT_VERSION}\n`);
  hash.update(`recipe:${name}\0${text}\0`);
  for (const [file, content] of await libraryFiles(recipesDir)) hash.update(`lib:${file}\0${content}\0`);
  hash.update(`parent:${parent?.key ?? ""}\n`);
  return { name, path, parent: parent?.name ?? null, key: hash.digest("hex") };
}

async function readRecipeText(recipesDir: string, name: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    const known = await listRecipes(recipesDir).catch(() => []);
    throw new AgentisoError("NOT_FOUND", `no image recipe ${JSON.stringify(name)} in ${recipesDir} (known: ${known.join(", ") || "none"})`);
  }
}

async function libraryFiles(recipesDir: string): Promise<Array<[string, string]>> {
  const dir = join(recipesDir, "lib");
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  const sorted = [...names].sort();
  return Promise.all(sorted.map(async (file): Promise<[string, string]> => [file, await readFile(join(dir, file), "utf8")]));
}
