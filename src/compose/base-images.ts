// Turns an image name into a storage base the engine can clone: builds the image if a recipe
// exists and it is not cached, materialises it shifted for the user namespace, imports it into
// the pool once. The base is named after the image's content hash, so a rebuilt image becomes
// a new base while workspaces of the old one keep theirs.
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../core/logger.js";
import type { BaseImages } from "../engine/engine-deps.js";
import { KeyedLock } from "../core/keyed-lock.js";
import type { ImageInfo, ImageLibrary } from "../images/image-library.js";
import type { StorageDriver } from "../storage/storage-driver.js";
import type { RuntimeKind } from "../runtimes/workspace-runtime.js";

export interface BaseImagesOptions {
  library: ImageLibrary;
  storage: StorageDriver;
  /** Host uid/gid that root inside a container maps to. */
  idShift: number;
  scratchDir: string;
  logger: Logger;
  /** Build missing images from their recipe (default true). */
  autoBuild?: boolean;
}

export class LibraryBaseImages implements BaseImages {
  private readonly lock = new KeyedLock();

  constructor(private readonly options: BaseImagesOptions) {}

  // Returns the storage base for an image and runtime, importing (and building) it on first
  // use: a uid-shifted directory tree for containers, an unshifted ext4 disk image for VMs
  // (a VM has its own kernel and user namespace: root inside is uid 0 on its own disk).
  async ensureBase(image: string, options: { runtime: RuntimeKind; signal?: AbortSignal }): Promise<string> {
    const info = await this.image(image, options.signal);
    const block = options.runtime === "vm";
    const baseName = `${info.name}-${info.manifest.hash.slice(0, 12)}${block ? "-disk" : ""}`;
    return this.lock.run([baseName], async () => {
      const bases = await this.options.storage.listBases();
      if (bases.some((b) => b.name === baseName)) return baseName;
      const started = performance.now();
      const signal = options.signal ? { signal: options.signal } : {};
      if (block) {
        // mkfs.ext4 -d only reads the tree: the cached image itself is the source
        await this.options.storage.importBase(baseName, { kind: "rootfs-dir", path: info.rootfsDir }, { layout: "block", ...signal });
      } else {
        const scratch = await mkdtemp(join(this.options.scratchDir, `import-${info.name}-`));
        try {
          const rootfs = join(scratch, "rootfs");
          await this.options.library.materialize(info.name, rootfs, { idShift: this.options.idShift, ...signal });
          await this.options.storage.importBase(baseName, { kind: "rootfs-dir", path: rootfs }, signal);
        } finally {
          await rm(scratch, { recursive: true, force: true });
        }
      }
      this.options.logger.info("image imported into the pool", { image: info.name, base: baseName, layout: block ? "block" : "directory", durationMs: Math.round(performance.now() - started) });
      return baseName;
    });
  }

  // Recipe images are (re)built when their recipe changed (a cache hit costs ~1 ms); imported
  // images have no recipe and are used as they are.
  private async image(name: string, signal?: AbortSignal): Promise<ImageInfo> {
    const recipes = await this.options.library.recipes();
    if (recipes.includes(name) && this.options.autoBuild !== false) {
      return this.options.library.build(name, signal ? { signal } : {});
    }
    return this.options.library.get(name);
  }
}
