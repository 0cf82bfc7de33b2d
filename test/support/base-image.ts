// A real Debian bookworm rootfs (with nodejs) for integration tests, built once per machine
// by src/images and reused from a cache OUTSIDE the repo clone, so CI on a machine that
// already built it starts in seconds. Parallel test files are safe: the library takes a
// per-image file lock, and this module memoises the build within one process.
//
// The returned rootfsDir is SHARED and READ-ONLY: never write into it. Copy it with
// materializeBaseImage(targetDir, { idShift }) or snapshot it in your storage driver.
import { join, resolve } from "node:path";
import { createLogger } from "../../src/core/logger.js";
import { ImageLibrary, type ImageInfo } from "../../src/images/image-library.js";
import type { ImageManifest } from "../../src/images/image-manifest.js";
import type { MaterializeOptions } from "../../src/images/rootfs-shift.js";

export const REPO_DIR = resolve(import.meta.dirname, "../..");
export const TEST_IMAGE_CACHE = "/var/cache/agentiso-test/images";
/** The pinned opencode binary (npm package opencode-linux-x64 1.18.33, opencode-ai's platform package). */
export const HOST_OPENCODE_BIN = join(REPO_DIR, "node_modules/opencode-linux-x64/bin/opencode");

let library: ImageLibrary | undefined;
const pending = new Map<string, Promise<ImageInfo>>();

// The image library over the shared test cache, with the repo's recipes.
export function testImageLibrary(): ImageLibrary {
  library ??= new ImageLibrary({
    cacheDir: TEST_IMAGE_CACHE,
    recipesDir: join(REPO_DIR, "images"),
    recipeEnv: { OPENCODE_BIN: HOST_OPENCODE_BIN },
    logger: createLogger({ level: "warn" }),
  });
  return library;
}

// Builds (or reuses) recipe `name` in the shared cache; one build per process at a time.
export function ensureImage(name: string): Promise<ImageInfo> {
  let promise = pending.get(name);
  if (!promise) {
    promise = testImageLibrary().build(name);
    pending.set(name, promise);
    promise.catch(() => pending.delete(name));
  }
  return promise;
}

// The `base` image: Debian bookworm minbase + bash, git, curl, ca-certificates, nodejs, tini.
export async function ensureBaseImage(): Promise<{ rootfsDir: string; manifest: ImageManifest }> {
  const image = await ensureImage("base");
  return { rootfsDir: image.rootfsDir, manifest: image.manifest };
}

// The `opencode` image: base + the pinned opencode binary + a pre-seeded opencode config dir.
export async function ensureOpencodeImage(): Promise<{ rootfsDir: string; manifest: ImageManifest }> {
  const image = await ensureImage("opencode");
  return { rootfsDir: image.rootfsDir, manifest: image.manifest };
}

// Copies the base image into targetDir (must be empty or absent); idShift chowns for a userns.
export async function materializeBaseImage(targetDir: string, options: MaterializeOptions = {}): Promise<{ rootfsDir: string }> {
  await ensureBaseImage();
  await testImageLibrary().materialize("base", targetDir, options);
  return { rootfsDir: targetDir };
}
