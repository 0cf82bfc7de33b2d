// The operator's CAs and proxies for workspaces: read on the host (PEM blocks only, bounded,
// the host's *.crt files in subdirectories too), applied in the workspace (a marked block in
// the system bundle, replaced and removed cleanly; the variables node, pip and requests need).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { loadWorkspaceTrust } from "../../src/compose/workspace-trust.js";
import { applyTrust } from "../../src/guest-agent/workspace-trust.js";
import { MAX_TRUSTED_CA_BYTES } from "../../src/protocol/index.js";

const pem = (body: string) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(body).toString("base64")}\n-----END CERTIFICATE-----`;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync("/tmp/ais-trust-");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("the host's extra CAs (subdirectories too) and caFiles are read as PEM blocks, once each", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "host/corp"), { recursive: true });
  writeFileSync(join(dir, "host/corp/gateway.crt"), `junk before\n${pem("gateway")}\n`);
  writeFileSync(join(dir, "host/readme.txt"), pem("not a .crt file"));
  writeFileSync(join(dir, "extra.pem"), `${pem("extra")}\n${pem("gateway")}\n`);
  const trust = await loadWorkspaceTrust({ trustHostCas: true, caFiles: [join(dir, "extra.pem")], noProxy: "localhost" }, join(dir, "host"));
  assert.equal(trust?.caCertificates, `${pem("gateway")}\n${pem("extra")}\n`);
  assert.deepEqual(trust?.proxy, { no: "localhost" });
  assert.equal(await loadWorkspaceTrust({ trustHostCas: false, caFiles: [] }, join(dir, "host")), undefined);
  assert.equal(await loadWorkspaceTrust({ trustHostCas: true, caFiles: [] }, join(dir, "missing")), undefined);
});

test("a CA file that is not PEM, missing or too large is refused with the reason", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "bad.pem"), "hello");
  await assert.rejects(loadWorkspaceTrust({ trustHostCas: false, caFiles: [join(dir, "bad.pem")] }), /holds no PEM certificate/);
  await assert.rejects(loadWorkspaceTrust({ trustHostCas: false, caFiles: [join(dir, "nope.pem")] }), /cannot read the CA file/);
  writeFileSync(join(dir, "huge.pem"), Array.from({ length: 800 }, (_, i) => pem(`${i}`.padEnd(2000, "x"))).join("\n"));
  await assert.rejects(loadWorkspaceTrust({ trustHostCas: false, caFiles: [join(dir, "huge.pem")] }), new RegExp(`more than ${MAX_TRUSTED_CA_BYTES}`));
});

test("applying trust adds one marked block to the bundle, replaces it next time and removes it when none is sent", async (t) => {
  const dir = tempDir(t);
  const paths = { bundle: join(dir, "etc/ssl/certs/ca-certificates.crt"), extraDir: join(dir, "local") };
  mkdirSync(join(dir, "etc/ssl/certs"), { recursive: true });
  writeFileSync(paths.bundle, `${pem("mozilla")}\n`);
  const env = await applyTrust({ caCertificates: `${pem("one")}\n`, proxy: { https: "http://10.1.2.3:3128", no: "localhost,.internal" } }, paths);
  assert.deepEqual(env, {
    NODE_EXTRA_CA_CERTS: join(paths.extraDir, "agentiso-host.crt"), REQUESTS_CA_BUNDLE: paths.bundle, PIP_CERT: paths.bundle,
    HTTPS_PROXY: "http://10.1.2.3:3128", https_proxy: "http://10.1.2.3:3128", NO_PROXY: "localhost,.internal", no_proxy: "localhost,.internal",
  });
  await applyTrust({ caCertificates: pem("two") }, paths);
  const bundle = readFileSync(paths.bundle, "utf8");
  assert.ok(bundle.startsWith(`${pem("mozilla")}\n# BEGIN agentiso`));
  assert.ok(bundle.includes(pem("two")) && !bundle.includes(pem("one")));
  assert.equal(bundle.match(/BEGIN agentiso/g)?.length, 1);
  assert.equal(readFileSync(join(paths.extraDir, "agentiso-host.crt"), "utf8"), `${pem("two")}\n`);
  assert.deepEqual(await applyTrust({ caCertificates: "" }, paths), {});
  assert.equal(readFileSync(paths.bundle, "utf8"), `${pem("mozilla")}\n`);
  assert.equal(existsSync(join(paths.extraDir, "agentiso-host.crt")), false);
});
