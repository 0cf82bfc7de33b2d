// bin/agentiso.js starts node without $NODE_EXTRA_CA_CERTS (node 20 parses every certificate in
// it before any JS runs), except for the daemon, whose LLM proxy needs them; the CLI puts the
// variable back for what it starts. A stand-in `node` on PATH shows what the real one would get.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFERRED_EXTRA_CA_CERTS, restoreDeferredNodeEnv } from "../../src/cli/deferred-node-env.js";

const LAUNCHER = resolve(import.meta.dirname, "../../bin/agentiso.js");
const CERTS = "/etc/ssl/certs/operator-extra.pem";

// What node would be started with: its argv and the two variables, as the stand-in prints them.
function launch(args: string[], env: NodeJS.ProcessEnv): { argv: string[]; extra: string; deferred: string } {
  const dir = mkdtempSync("/tmp/ais-launcher-");
  try {
    const fakeNode = join(dir, "node");
    writeFileSync(fakeNode, `#!/bin/sh\nprintf '%s\\n' "extra=\${NODE_EXTRA_CA_CERTS-unset}" "deferred=\${${DEFERRED_EXTRA_CA_CERTS}-unset}" "$@"\n`);
    chmodSync(fakeNode, 0o755);
    const run = spawnSync(LAUNCHER, args, { env: { PATH: `${dir}:/usr/bin:/bin`, ...env }, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const [extra, deferred, ...argv] = run.stdout.trimEnd().split("\n");
    return { argv, extra: extra!.slice("extra=".length), deferred: deferred!.slice("deferred=".length) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the agentiso launcher", () => {
  test("a CLI command starts node without the extra certificates, holding them aside, argv intact", () => {
    const started = launch(["ws", "exec", "dev", "--", "sh", "-c", "echo 'a  b' $HOME"], { NODE_EXTRA_CA_CERTS: CERTS });
    assert.deepEqual(started, { argv: [LAUNCHER, "ws", "exec", "dev", "--", "sh", "-c", "echo 'a  b' $HOME"], extra: "unset", deferred: CERTS });
  });

  test("the daemon starts with them: its LLM proxy trusts the operator's CAs", () => {
    assert.deepEqual(launch(["--home", "/tmp/x", "daemon", "--foreground"], { NODE_EXTRA_CA_CERTS: CERTS }).extra, CERTS);
  });

  test("without extra certificates nothing is set", () => {
    const started = launch(["--version"], {});
    assert.deepEqual([started.extra, started.deferred], ["unset", "unset"]);
  });

  test("the CLI puts them back for what it starts, once", () => {
    const env: NodeJS.ProcessEnv = { [DEFERRED_EXTRA_CA_CERTS]: CERTS };
    restoreDeferredNodeEnv(env);
    assert.deepEqual(env, { NODE_EXTRA_CA_CERTS: CERTS });
    restoreDeferredNodeEnv(env);
    assert.deepEqual(env, { NODE_EXTRA_CA_CERTS: CERTS });
  });
});
