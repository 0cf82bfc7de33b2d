// The functions behind `agentiso image build|ls|import|rm`. An image in the cache is a
// directory <cacheDir>/<name>/ holding rootfs/ and manifest.json. Builds and imports work in
// <cacheDir>/.tmp/ and rename into place at the end, under a per-name lock, so a reader never
// sees a half-built image and two builders of one name never corrupt each other.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import { silentLogger, type Logger } from "../core/logger.js";
import { assertValidName } from "../core/names.js";
import { commandFailed, runCommand } from "../core/run-command.js";
import { acquireFileLock, type FileLock } from "./file-lock.js";
import { IMAGE_FORMAT_VERSION, listRecipes, loadRecipe, type Recipe } from "./recipe.js";
import { readManifest, writeManifest, type ImageManifest } from "./image-manifest.js";
import { inspectRootfs } from "./rootfs-inspect.js";
import { extractTarball, packTarball, sha256File } from "./tarball.js";
import { materializeRootfs, type MaterializeOptions } from "./rootfs-shift.js";
import { removeTree } from "./remove-tree.js";

export interface ImageLibraryOptions {
  /** Where images live, e.g. $AGENTISO_HOME/images. Created on first use. */
  cacheDir: string;
  /** The recipes folder (images/ of the package). */
  recipesDir: string;
  /** Variables for recipe scripts, e.g. { OPENCODE_BIN: "/path/to/opencode" }; recipes get no other environment than these, PATH, HOME and LANG. */
  recipeEnv?: Record<string, string>;
  logger?: Logger;
  /** Deadline for one recipe run; default 30 min. */
  buildTimeoutMs?: number;
  /** How long to wait for another process building the same image; default 40 min. */
  lockTimeoutMs?: number;
}

export interface ImageInfo {
  name: string;
  /** The image's rootfs. Read-only for everyone: copy it (materialize) or snapshot it. */
  rootfsDir: string;
  manifest: ImageManifest;
}

export interface BuildOptions {
  /** Rebuild even when the cached image matches the recipe. */
  force?: boolean;
  signal?: AbortSignal;
}

// What a recipe sees besides its own variables; recipeEnv may override (e.g. proxies, PATH).
function cleanEnvironment(): Record<string, string> {
  // the running node's directory first, so a recipe finds the npm that belongs to it
  return { PATH: `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: "/root", LANG: "C.UTF-8" };
}

export class ImageLibrary {
  private readonly logger: Logger;

  constructor(private readonly options: ImageLibraryOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: "images" });
  }

  // Recipe names that `build` accepts.
  recipes(): Promise<string[]> {
    return listRecipes(this.options.recipesDir);
  }

  // Returns the image built from recipe `name`, reusing the cache when the recipe's key matches.
  async build(name: string, options: BuildOptions = {}): Promise<ImageInfo> {
    const recipe = await loadRecipe(this.options.recipesDir, name);
    if (!options.force) {
      const cached = await this.current(recipe);
      if (cached) return cached;
    }
    await using _lock = await this.lock(name, options.signal);
    if (!options.force) {
      const cached = await this.current(recipe);
      if (cached) return cached;
    }
    await this.sweepLeftovers(name);
    const parent = recipe.parent === null ? null : await this.build(recipe.parent, { signal: options.signal });
    // `return await`: the lock must be held until the build settles, not just until it starts.
    return await this.runRecipe(recipe, parent, options.signal);
  }

  // Imports a rootfs tarball (.tar, .tar.gz, .tar.zst, ...) as image `name`.
  async import(file: string, name: string, options: { replace?: boolean; signal?: AbortSignal } = {}): Promise<ImageInfo> {
    assertValidName(name, "image name");
    await stat(file).catch(() => {
      throw new AgentisoError("NOT_FOUND", `no such tarball: ${file}`);
    });
    await using _lock = await this.lock(name, options.signal);
    if (!options.replace && (await readManifest(this.imageDir(name)))) {
      throw new AgentisoError("CONFLICT", `image ${name} already exists: remove it first or import with replace`);
    }
    await this.sweepLeftovers(name);
    const started = Date.now();
    const work = await this.workDir(name);
    try {
      const hash = await sha256File(file);
      await extractTarball(file, join(work, "rootfs"), options.signal);
      const source = { kind: "import" as const, file: file.split("/").pop() ?? file };
      await this.finish(work, name, source, hash, started, options.signal);
    } catch (err) {
      await removeTree(work);
      throw err;
    }
    this.logger.info("image imported", { image: name, ms: Date.now() - started });
    return await this.get(name);
  }

  // Lists every complete image in the cache, sorted by name.
  async list(): Promise<ImageInfo[]> {
    const entries = await readdir(this.options.cacheDir, { withFileTypes: true }).catch(() => []);
    const images: ImageInfo[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const manifest = await readManifest(this.imageDir(entry.name));
      if (manifest) images.push(this.info(manifest));
    }
    return images.sort((a, b) => a.name.localeCompare(b.name));
  }

  // The cached image `name`; NOT_FOUND when there is none.
  async get(name: string): Promise<ImageInfo> {
    assertValidName(name, "image name");
    const manifest = await readManifest(this.imageDir(name));
    if (!manifest) throw new AgentisoError("NOT_FOUND", `no image ${name}: build it (\`agentiso image build ${name}\`) or import a tarball`);
    return this.info(manifest);
  }

  // Removes image `name` from the cache; NOT_FOUND when there is none.
  async remove(name: string, signal?: AbortSignal): Promise<void> {
    await this.get(name);
    await using _lock = await this.lock(name, signal);
    await this.discard(this.imageDir(name));
    this.logger.info("image removed", { image: name });
  }

  // Writes image `name`'s rootfs as a zstd tarball that `import` (here or elsewhere) accepts.
  async export(name: string, file: string, signal?: AbortSignal): Promise<void> {
    const image = await this.get(name);
    await packTarball(image.rootfsDir, file, signal);
  }

  // Copies image `name` into targetDir as a rootfs, shifting uids/gids when asked.
  async materialize(name: string, targetDir: string, options: MaterializeOptions = {}): Promise<{ inodes: number }> {
    const image = await this.get(name);
    return materializeRootfs(image.rootfsDir, targetDir, options);
  }

  private async current(recipe: Recipe): Promise<ImageInfo | null> {
    const manifest = await readManifest(this.imageDir(recipe.name));
    const fresh = manifest?.source.kind === "recipe" && manifest.hash === recipe.key && manifest.formatVersion === IMAGE_FORMAT_VERSION;
    return fresh ? this.info(manifest) : null;
  }

  private async runRecipe(recipe: Recipe, parent: ImageInfo | null, signal?: AbortSignal): Promise<ImageInfo> {
    const started = Date.now();
    this.logger.info("image build started", { image: recipe.name, parent: recipe.parent, key: recipe.key.slice(0, 12) });
    const work = await this.workDir(recipe.name);
    const rootfs = join(work, "rootfs");
    try {
      if (parent) await materializeRootfs(parent.rootfsDir, rootfs, { signal });
      else await mkdir(rootfs);
      await this.runScript(recipe, rootfs, work, signal);
      const source = { kind: "recipe" as const, recipe: recipe.name, parent: recipe.parent };
      await this.finish(work, recipe.name, source, recipe.key, started, signal);
    } catch (err) {
      await removeTree(work);
      throw err;
    }
    this.logger.info("image built", { image: recipe.name, ms: Date.now() - started });
    return this.get(recipe.name);
  }

  private async runScript(recipe: Recipe, rootfs: string, work: string, signal?: AbortSignal): Promise<void> {
    const vars = { ...cleanEnvironment(), ...this.options.recipeEnv, ROOTFS: rootfs, AGENTISO_IMAGES_DIR: this.options.recipesDir, AGENTISO_IMAGE_NAME: recipe.name };
    const timeoutSeconds = Math.ceil((this.options.buildTimeoutMs ?? 30 * 60_000) / 1000);
    // `timeout` signals the recipe's whole process group (mmdebstrap and its apt/dpkg children,
    // which then unmount what they mounted); `env -i` gives the recipe only its own variables,
    // so nothing of the daemon's environment (API keys) reaches a build or changes its output.
    const argv = ["timeout", "--kill-after=30", String(timeoutSeconds), "env", "-i", ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), "bash", recipe.path];
    const result = await runCommand(argv, { cwd: work, signal, timeoutMs: (timeoutSeconds + 60) * 1000, check: false });
    if (result.exitCode === 124 || result.exitCode === 137) {
      throw new AgentisoError("TIMEOUT", `image recipe ${recipe.name} did not finish within ${timeoutSeconds} s`, { details: { recipe: recipe.path } });
    }
    if (result.exitCode !== 0) throw commandFailed(["bash", recipe.path], result);
  }

  // Deletes what a killed build of `name` left in .tmp (only safe while holding name's lock).
  private async sweepLeftovers(name: string): Promise<void> {
    const tmp = join(this.options.cacheDir, ".tmp");
    const pattern = new RegExp(`^${name.replace(/[.]/g, "\\.")}-[0-9a-f]{12}$`);
    const entries = await readdir(tmp).catch(() => []);
    for (const entry of entries.filter((e) => pattern.test(e))) await removeTree(join(tmp, entry));
  }

  // Writes the manifest into the work dir and renames it over the cached image, if any.
  private async finish(work: string, name: string, source: ImageManifest["source"], hash: string, started: number, signal?: AbortSignal) {
    const facts = await inspectRootfs(join(work, "rootfs"), signal);
    const manifest: ImageManifest = { formatVersion: IMAGE_FORMAT_VERSION, name, source, hash, createdAt: new Date().toISOString(), buildMs: Date.now() - started, ...facts };
    await writeManifest(work, manifest);
    await this.discard(this.imageDir(name));
    await rename(work, this.imageDir(name));
  }

  // Moves a directory aside (one rename, so readers see it whole or gone) and deletes it.
  private async discard(dir: string): Promise<void> {
    const trash = join(this.options.cacheDir, ".tmp", `trash-${randomBytes(6).toString("hex")}`);
    try {
      await rename(dir, trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    await removeTree(trash);
  }

  private async workDir(name: string): Promise<string> {
    const dir = join(this.options.cacheDir, ".tmp", `${name}-${randomBytes(6).toString("hex")}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  private async lock(name: string, signal?: AbortSignal): Promise<FileLock> {
    const dir = join(this.options.cacheDir, ".locks");
    await mkdir(dir, { recursive: true });
    return acquireFileLock(join(dir, `${name}.lock`), this.options.lockTimeoutMs ?? 40 * 60_000, signal);
  }

  private imageDir(name: string): string {
    return join(this.options.cacheDir, name);
  }

  private info(manifest: ImageManifest): ImageInfo {
    return { name: manifest.name, rootfsDir: join(this.imageDir(manifest.name), "rootfs"), manifest };
  }
}
