// An HTTPS site on the fake internet (runtime-fake-internet.ts), signed by a CA of the test's
// own: a certificate for the server's address (IP SAN), a static file tree served on :8443,
// and in it an npm registry of one package and a git repository over dumb HTTP. What a
// workspace behind a TLS-inspecting gateway meets, without any outside address.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { startFakeInternet, type FakeInternet } from "./runtime-fake-internet.js";

export interface FakeTlsSite {
  internet: FakeInternet;
  /** https://ADDRESS:8443/ */
  url: string;
  /** The CA's certificate (PEM file): what the workspace must be told to trust. */
  caFile: string;
  close(): Promise<void>;
}

const STATIC_HTTPS_SERVER = `
const https = require("node:https");
const fs = require("node:fs");
const path = require("node:path");
const [address, key, cert, root] = process.argv.slice(1);
const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
  let file = path.join(root, decodeURIComponent(new URL(req.url, "https://x").pathname));
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.json");
  if (!file.startsWith(root) || !fs.existsSync(file)) { res.writeHead(404).end("not here\\n"); return; }
  res.end(fs.readFileSync(file));
});
server.listen(8443, address, () => process.stdout.write("ready\\n"));
process.on("SIGTERM", () => process.exit(0));
`;

export const TINY_PACKAGE_GREETING = "hello over TLS";

// names: DNS names the certificate is for too (beside the address), for tests that reach it by name.
export async function startFakeTlsSite(options: { names?: string[] } = {}): Promise<FakeTlsSite> {
  const dir = mkdtempSync("/tmp/ais-tls-");
  const root = join(dir, "www");
  let internet: FakeInternet | undefined;
  try {
    // the address is chosen by startFakeInternet; the certificate needs it first: pick the subnet here
    const subnet = `198.${18 + Math.floor(Math.random() * 2)}.${Math.floor(Math.random() * 256)}`;
    const address = `${subnet}.1`;
    await makeCertificates(dir, address, options.names ?? []);
    const url = `https://${address}:8443/`;
    await addRegistry(root, url);
    await addGitRepository(root);
    internet = await startFakeInternet({ subnet, serverSource: STATIC_HTTPS_SERVER, serverArgs: [join(dir, "server.key"), join(dir, "server.crt"), root] });
    const opened = internet;
    return { internet: opened, url, caFile: join(dir, "ca.crt"), close: async () => (await opened.close(), rmSync(dir, { recursive: true, force: true })) };
  } catch (err) {
    await internet?.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function makeCertificates(dir: string, address: string, names: readonly string[]): Promise<void> {
  const openssl = (...args: string[]) => runCommand(["openssl", ...args], { cwd: dir });
  await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=agentiso test gateway CA");
  await openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${address}`);
  writeFileSync(join(dir, "san.ext"), `subjectAltName=${[`IP:${address}`, ...names.map((name) => `DNS:${name}`)].join(",")}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  await openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext");
}

function write(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

// /tls-dep (packument as tls-dep/index.json) and its tarball.
async function addRegistry(root: string, url: string): Promise<void> {
  const work = mkdtempSync("/tmp/ais-tls-pkg-");
  try {
    write(join(work, "package/package.json"), JSON.stringify({ name: "tls-dep", version: "1.0.0", main: "index.js" }));
    write(join(work, "package/index.js"), `module.exports = ${JSON.stringify(TINY_PACKAGE_GREETING)};\n`);
    await runCommand(["tar", "-czf", join(work, "pkg.tgz"), "--owner=0", "--group=0", "-C", work, "package"]);
    const tarball = readFileSync(join(work, "pkg.tgz"));
    const integrity = `sha512-${createHash("sha512").update(tarball).digest("base64")}`;
    write(join(root, "tls-dep/-/tls-dep-1.0.0.tgz"), tarball);
    const dist = { tarball: `${url}tls-dep/-/tls-dep-1.0.0.tgz`, integrity };
    write(join(root, "tls-dep/index.json"), JSON.stringify({ name: "tls-dep", "dist-tags": { latest: "1.0.0" }, versions: { "1.0.0": { name: "tls-dep", version: "1.0.0", dist } } }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// /repo.git: a bare repository with one commit, prepared for dumb HTTP.
async function addGitRepository(root: string): Promise<void> {
  const work = mkdtempSync("/tmp/ais-tls-git-");
  try {
    const git = (...args: string[]) => runCommand(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", ...args], { cwd: work });
    await git("init", "-q", "src");
    writeFileSync(join(work, "src/README"), "cloned over TLS\n");
    await runCommand(["git", "-C", join(work, "src"), "add", "README"]);
    await runCommand(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", join(work, "src"), "commit", "-qm", "one"]);
    await git("clone", "-q", "--bare", "src", join(root, "repo.git"));
    await runCommand(["git", "-C", join(root, "repo.git"), "update-server-info"]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
