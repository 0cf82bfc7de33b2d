import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listRecipes, loadRecipe } from "../../src/images/recipe.js";
import { isAgentisoError } from "../../src/core/errors.js";

describe("image recipes", () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "agentiso-recipe-test-"));
    await mkdir(join(dir, "lib"));
    await writeFile(join(dir, "lib", "common.sh"), "helper() { :; }\n");
    await writeFile(join(dir, "root.sh"), "#!/usr/bin/env bash\nset -euo pipefail\necho root\n");
    await writeFile(join(dir, "child.sh"), "#!/usr/bin/env bash\n# parent: root\nset -euo pipefail\necho child\n");
    await writeFile(join(dir, "loop-a.sh"), "# parent: loop-b\n");
    await writeFile(join(dir, "loop-b.sh"), "# parent: loop-a\n");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a recipe's key is the same every time it is computed", async () => {
    const first = await loadRecipe(dir, "root");
    const second = await loadRecipe(dir, "root");
    assert.equal(first.key, second.key);
    assert.match(first.key, /^[0-9a-f]{64}$/);
    assert.equal(first.parent, null);
  });

  test("a recipe names its parent in a '# parent:' header line", async () => {
    const child = await loadRecipe(dir, "child");
    assert.equal(child.parent, "root");
  });

  test("editing a recipe changes its key and its children's keys", async () => {
    const before = await loadRecipe(dir, "child");
    const rootBefore = await loadRecipe(dir, "root");
    await appendFile(join(dir, "root.sh"), "echo more\n");
    const after = await loadRecipe(dir, "child");
    const rootAfter = await loadRecipe(dir, "root");
    assert.notEqual(rootAfter.key, rootBefore.key);
    assert.notEqual(after.key, before.key);
  });

  test("editing a shared file in images/lib changes every recipe's key", async () => {
    const before = await loadRecipe(dir, "root");
    await appendFile(join(dir, "lib", "common.sh"), "other() { :; }\n");
    const after = await loadRecipe(dir, "root");
    assert.notEqual(after.key, before.key);
  });

  test("an unknown recipe is NOT_FOUND and the message lists the known ones", async () => {
    await assert.rejects(loadRecipe(dir, "nope"), (err) => isAgentisoError(err, "NOT_FOUND") && /child, loop-a, loop-b, root/.test(err.message));
  });

  test("recipes whose parents form a cycle are rejected as INVALID_INPUT", async () => {
    await assert.rejects(loadRecipe(dir, "loop-a"), (err) => isAgentisoError(err, "INVALID_INPUT") && /cycle/.test(err.message));
  });

  test("a recipe name that could escape the recipes folder is rejected", async () => {
    await assert.rejects(loadRecipe(dir, "../etc/passwd"), (err) => isAgentisoError(err, "INVALID_INPUT"));
  });

  test("listRecipes names every .sh file in the folder, sorted", async () => {
    assert.deepEqual(await listRecipes(dir), ["child", "loop-a", "loop-b", "root"]);
  });

  test("the repository's opencode recipe builds on base", async () => {
    const recipesDir = join(import.meta.dirname, "../../images");
    const opencode = await loadRecipe(recipesDir, "opencode");
    assert.equal(opencode.parent, "base");
    assert.deepEqual(await listRecipes(recipesDir), ["base", "node", "opencode", "python", "rust"]);
  });
});
