// Workspaces on a network that inspects TLS (issue 13 item 6): an HTTPS site of the test's own,
// signed by a CA of its own, on the fake internet. Without that CA curl, git and npm in an
// egress workspace fail (an untrusted chain, at once, not after minutes of retries); with
// `[net] caFiles` naming it — the way a host's /usr/local/share/ca-certificates reaches
// workspaces — the same commands in the same workspace succeed after the daemon restarts.
// The VM half (an egress microVM trusting the test's CA) runs inside orchestrate-vm.test.ts,
// whose golden downloads from this fake registry over TLS: it saves a VM boot.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { hasCommand, isRoot, requires } from "../support/prereq.js";
import { startFakeTlsSite, TINY_PACKAGE_GREETING, type FakeTlsSite } from "../support/fake-tls-site.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasCommand("slirp4netns"), hasCommand("nft"), hasCommand("openssl"));

describe("workspaces trust the CAs the operator names", { skip, timeout: 900_000 }, () => {
  let site: FakeTlsSite;
  let cli: CliHarness;
  const inWorkspace = (command: string) => cli.run(["ws", "exec", "tls", "--timeout", "60", "--", "sh", "-c", command]);
  const npmInstall = () => `cd /tmp && rm -rf app && mkdir app && cd app && npm install --no-audit --no-fund --no-update-notifier --fetch-retries=0 --registry ${site.url} tls-dep && node -p "require('tls-dep')"`;

  before(async () => {
    await ensureImage("node");
    site = await startFakeTlsSite();
    cli = new CliHarness();
    await cli.ok(["ws", "create", "--name", "tls", "--image", "node", "--network", "egress"]);
  });
  after(async () => {
    await cli?.[Symbol.asyncDispose]();
    await site?.close();
  });

  test("without the CA: curl, git and npm refuse the chain, fast", async () => {
    const started = performance.now();
    const curl = await inWorkspace(`curl -sS ${site.url}tls-dep/index.json`);
    assert.equal(curl.code, 60, curl.stderr); // CURLE_PEER_FAILED_VERIFICATION
    const git = await inWorkspace(`git clone -q ${site.url}repo.git /tmp/repo`);
    assert.notEqual(git.code, 0);
    assert.match(git.stderr, /certificate|SSL/i);
    const npm = await inWorkspace(npmInstall());
    assert.notEqual(npm.code, 0);
    assert.match(npm.stdout + npm.stderr, /SELF_SIGNED_CERT_IN_CHAIN|self[- ]signed certificate|UNABLE_TO_VERIFY/i);
    console.log(`untrusted: curl, git and npm failed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  test("with [net] caFiles: curl, git and npm succeed in the same workspace after a daemon restart", async () => {
    writeFileSync(join(cli.home, "config.toml"), `[net]\ncaFiles = ["${site.caFile}"]\n`);
    await cli.ok(["daemon", "stop"]);
    const curl = await inWorkspace(`curl -sS ${site.url}tls-dep/index.json`);
    assert.equal(curl.code, 0, curl.stderr);
    assert.match(curl.stdout, /"tls-dep"/);
    const git = await inWorkspace(`git clone -q ${site.url}repo.git /tmp/repo && cat /tmp/repo/README`);
    assert.equal(git.code, 0, git.stderr);
    assert.equal(git.stdout, "cloned over TLS\n");
    const npm = await inWorkspace(npmInstall());
    assert.equal(npm.code, 0, npm.stdout + npm.stderr);
    assert.match(npm.stdout, new RegExp(TINY_PACKAGE_GREETING));
    // the CA went where update-ca-certificates keeps local CAs, and into the system bundle once
    const marks = await inWorkspace("grep -c 'BEGIN agentiso' /etc/ssl/certs/ca-certificates.crt; ls /usr/local/share/ca-certificates");
    assert.equal(marks.stdout, "1\nagentiso-host.crt\n");
  });
});
