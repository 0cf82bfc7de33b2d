// KeyedLock: serialises work per volume name, never across names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyedLock } from "../../src/core/keyed-lock.js";

test("operations on the same key run one after another, in order, even when one fails", async () => {
  const lock = new KeyedLock();
  const events: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const first = lock.run(["a"], async () => {
    events.push("first start");
    await gate;
    events.push("first end");
    throw new Error("boom");
  });
  const second = lock.run(["a"], () => Promise.resolve(events.push("second")));
  await Promise.resolve();
  release();
  await assert.rejects(first, /boom/);
  await second;
  assert.deepEqual(events, ["first start", "first end", "second"]);
});

test("operations on different keys do not wait for each other", async () => {
  const lock = new KeyedLock();
  let release!: () => void;
  const blocked = lock.run(["a"], () => new Promise<void>((resolve) => (release = resolve)));
  assert.equal(await lock.run(["b"], () => Promise.resolve("b ran")), "b ran");
  release();
  await blocked;
});
