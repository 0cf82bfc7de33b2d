// The agent's resident perl helper for settimeofday and RNDRESEEDCRNG. Only the reseed is
// exercised here (it is harmless on the host); the clock is set in VM guests only, which
// test/integration/vm-isolation.test.ts checks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KernelHelper } from "../../src/guest-agent/kernel-helper.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";

test("the helper reseeds the kernel's CRNG, answering each command on the same process", { skip: requires(isRoot(), hasCommand("perl")) }, async () => {
  const helper = new KernelHelper();
  try {
    await helper.reseed();
    await Promise.all([helper.reseed(), helper.reseed(), helper.reseed()]);
  } finally {
    helper.close(); // a resident process: the test file would never exit
  }
});

test("without perl the helper fails at once instead of hanging, and says why", async () => {
  const path = process.env.PATH;
  process.env.PATH = "/nonexistent";
  const helper = new KernelHelper();
  try {
    await assert.rejects(helper.reseed(), /ENOENT|exited/);
  } finally {
    process.env.PATH = path;
    helper.close();
  }
});
