// A Node and a Python project for golden setup tests, each with the package index it installs
// from committed next to it: the golden's setup serves that index on the workspace's own
// loopback (nothing leaves the workspace: its network can stay "none") and installs from it
// with the image's own npm ci / pip. The index logs each request to .served.log (git-ignored)
// in the repo, so a worker forked from it can show what was served (opencode's bash tool asks
// before touching paths outside the project, and a worker has no one to ask).
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import { storedZip } from "./stored-zip.js";

/** What a project adds to a golden: its files, its setup command, and what a worker prints to prove the install. */
export interface ToolchainProject {
  /** Writes the project and its index into the repo (commit them yourself). */
  addTo(repo: string): Promise<void>;
  setup: string;
  /** A shell command printing the installed package's greeting, then the index's request log. */
  probe: string;
  greeting: string;
  /** Request paths the index must have served. */
  served: string[];
}

const NPM_PORT = 4873;
const PYPI_PORT = 4874;

// Waits for a server on the workspace's loopback, runs the install, stops the server.
function serveWhile(server: string, readyUrl: string, install: string): string {
  return `${server} & s=$!; for i in $(seq 100); do curl -sf ${readyUrl} >/dev/null && break; sleep 0.1; done; ${install}; r=$?; kill $s; exit $r`;
}

function write(repo: string, path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), content);
}

const TINY_DEP_GREETING = "hello from tiny-dep";

// package.json + package-lock.json depending on tiny-dep 1.0.0, and an npm registry serving it.
export const NODE_PROJECT: ToolchainProject = {
  addTo: addNodeProject,
  setup: serveWhile(`node registry/serve.mjs ${NPM_PORT}`, `http://127.0.0.1:${NPM_PORT}/tiny-dep`, "npm ci --no-audit --no-fund --no-update-notifier"),
  probe: `node -p "require('tiny-dep').hello"; cat .served.log`,
  greeting: TINY_DEP_GREETING,
  served: ["/tiny-dep/-/tiny-dep-1.0.0.tgz"],
};

async function addNodeProject(repo: string): Promise<void> {
  const greeting = TINY_DEP_GREETING;
  const work = mkdtempSync("/tmp/ais-tiny-dep-");
  try {
    write(work, "package/package.json", JSON.stringify({ name: "tiny-dep", version: "1.0.0", main: "index.js" }));
    write(work, "package/index.js", `module.exports = { hello: ${JSON.stringify(greeting)} };\n`);
    await runCommand(["tar", "-czf", join(work, "tiny-dep.tgz"), "--owner=0", "--group=0", "-C", work, "package"]);
    const tarball = readFileSync(join(work, "tiny-dep.tgz"));
    const integrity = `sha512-${createHash("sha512").update(tarball).digest("base64")}`;
    const tarballUrl = `http://127.0.0.1:${NPM_PORT}/tiny-dep/-/tiny-dep-1.0.0.tgz`;
    write(repo, "registry/tiny-dep-1.0.0.tgz", tarball);
    write(repo, "registry/tiny-dep.json", JSON.stringify({ name: "tiny-dep", "dist-tags": { latest: "1.0.0" }, versions: { "1.0.0": { name: "tiny-dep", version: "1.0.0", dist: { tarball: tarballUrl, integrity } } } }));
    write(repo, "registry/serve.mjs", NPM_REGISTRY_SERVER);
    write(repo, ".npmrc", `registry=http://127.0.0.1:${NPM_PORT}/\n`);
    appendFileSync(join(repo, ".gitignore"), ".served.log\n");
    write(repo, "package.json", JSON.stringify({ name: "toolchain-app", version: "1.0.0", private: true, dependencies: { "tiny-dep": "1.0.0" } }, null, 2));
    const root = { name: "toolchain-app", version: "1.0.0", dependencies: { "tiny-dep": "1.0.0" } };
    write(repo, "package-lock.json", JSON.stringify({ name: "toolchain-app", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": root, "node_modules/tiny-dep": { version: "1.0.0", resolved: tarballUrl, integrity } } }, null, 2));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const NPM_REGISTRY_SERVER = `// An npm registry of one package on 127.0.0.1:<port>: its packument and its tarball.
import { createServer } from "node:http";
import { appendFileSync, readFileSync } from "node:fs";
const here = new URL(".", import.meta.url).pathname;
const files = { "/tiny-dep": ["application/json", "tiny-dep.json"], "/tiny-dep/-/tiny-dep-1.0.0.tgz": ["application/octet-stream", "tiny-dep-1.0.0.tgz"] };
createServer((req, res) => {
  appendFileSync(here + "../.served.log", "GET " + req.url + "\\n");
  const file = files[req.url];
  if (!file) { res.writeHead(404).end("{}"); return; }
  res.writeHead(200, { "content-type": file[0] }).end(readFileSync(here + file[1]));
}).listen(Number(process.argv[2]), "127.0.0.1");
`;

const TINYPKG_GREETING = "hello from tinypkg";
const WHEEL = "tinypkg-1.0.0-py3-none-any.whl";

// A wheel of tinypkg 1.0.0 in a PEP 503 simple index, served by python3 -m http.server into a venv.
export const PYTHON_PROJECT: ToolchainProject = {
  addTo: async (repo) => addPythonProject(repo),
  setup: serveWhile(
    `python3 -m http.server ${PYPI_PORT} --bind 127.0.0.1 --directory pyindex 2>.served.log`,
    `http://127.0.0.1:${PYPI_PORT}/simple/`,
    `python3 -m venv .venv && .venv/bin/pip install --disable-pip-version-check --no-cache-dir --index-url http://127.0.0.1:${PYPI_PORT}/simple/ tinypkg==1.0.0`,
  ),
  probe: `.venv/bin/python -c "import tinypkg; print(tinypkg.HELLO)"; cat .served.log`,
  greeting: TINYPKG_GREETING,
  served: ["/simple/tinypkg/", `/${WHEEL}`],
};

function addPythonProject(repo: string): void {
  const greeting = TINYPKG_GREETING;
  const files: Record<string, string> = {
    "tinypkg/__init__.py": `HELLO = ${JSON.stringify(greeting)}\n`,
    "tinypkg-1.0.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0.0\n",
    "tinypkg-1.0.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: agentiso-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
  };
  const record = Object.entries(files).map(([path, content]) => `${path},sha256=${createHash("sha256").update(content).digest("base64url")},${Buffer.byteLength(content)}`);
  const wheelName = WHEEL;
  const wheel = storedZip({ ...files, "tinypkg-1.0.0.dist-info/RECORD": [...record, "tinypkg-1.0.0.dist-info/RECORD,,"].join("\n") + "\n" });
  write(repo, `pyindex/${wheelName}`, wheel);
  write(repo, "pyindex/simple/tinypkg/index.html", `<!DOCTYPE html><html><body><a href="/${wheelName}#sha256=${createHash("sha256").update(wheel).digest("hex")}">${wheelName}</a></body></html>\n`);
  appendFileSync(join(repo, ".gitignore"), ".venv/\n.served.log\n");
}
