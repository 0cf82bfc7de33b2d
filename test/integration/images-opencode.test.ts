// The `opencode` image: base + the pinned opencode binary + a pre-seeded config dir. The
// seed's promise is that opencode makes no network attempt of its own at start (without it,
// opencode npm-installs @opencode-ai/plugin). Checked by running the real opencode under
// strace in an empty network namespace against a loopback stub that answers HTTP 400.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { access, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureOpencodeImage, HOST_OPENCODE_BIN } from "../support/base-image.js";
import { runCommand } from "../../src/core/run-command.js";
import { hasCommand, hasPath, isRoot, requires } from "../support/prereq.js";

const SEED = "opt/agentiso/opencode/xdg-config";
const skip = requires(isRoot(), hasCommand("mmdebstrap"), hasCommand("npm"), hasCommand("strace"), hasCommand("unshare"), hasPath(HOST_OPENCODE_BIN, "opencode-linux-x64 npm package (npm ci)"));

describe("opencode image", { skip }, () => {
  let rootfsDir: string;
  let dir: string;

  before(async () => {
    ({ rootfsDir } = await ensureOpencodeImage());
    dir = await mkdtemp(join(tmpdir(), "agentiso-opencode-image-"));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("its /usr/local/bin/opencode is the pinned binary from the npm package", async () => {
    const sha = async (path: string) => createHash("sha256").update(await readFile(path)).digest("hex");
    assert.equal(await sha(join(rootfsDir, "usr/local/bin/opencode")), await sha(HOST_OPENCODE_BIN));
    const version = await runCommand(["unshare", "-m", "sh", "-c", 'mount --bind /dev "$0/dev" && mount --bind /proc "$0/proc" && exec chroot "$0" /usr/local/bin/opencode --version', rootfsDir], {
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root" },
    });
    assert.equal(version.stdout.trim(), "1.18.33");
  });

  test("its seeded config dir pins @opencode-ai/plugin with a matching lock and node_modules", async () => {
    const seed = join(rootfsDir, SEED, "opencode");
    const pkg = JSON.parse(await readFile(join(seed, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    assert.deepEqual(pkg, { dependencies: { "@opencode-ai/plugin": "1.18.33" } });
    const lock = JSON.parse(await readFile(join(seed, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };
    assert.equal(lock.packages["node_modules/@opencode-ai/plugin"]?.version, "1.18.33");
    await access(join(seed, "node_modules/@opencode-ai/plugin/package.json"));
  });

  test("opencode pointed at the seeded config dir makes no network attempt of its own", async () => {
    const configHome = join(dir, "direct-config");
    await cp(join(rootfsDir, SEED), configHome, { recursive: true });
    const probe = await runProbe(dir, "direct", configHome);
    assert.ok(probe.stubRequests > 0, "opencode reached the stub provider, so it got past start-up");
    assert.deepEqual(probe.outsideConnects, []);
    assert.equal(probe.npmCacheCreated, false);
  });

  test("a per-run config dir with the seed's package files and a node_modules symlink is enough", async () => {
    const seed = join(rootfsDir, SEED, "opencode");
    const configHome = join(dir, "linked-config");
    await mkdir(join(configHome, "opencode"), { recursive: true });
    await cp(join(seed, "package.json"), join(configHome, "opencode/package.json"));
    await cp(join(seed, "package-lock.json"), join(configHome, "opencode/package-lock.json"));
    await symlink(join(seed, "node_modules"), join(configHome, "opencode/node_modules"));
    const probe = await runProbe(dir, "linked", configHome);
    assert.ok(probe.stubRequests > 0);
    assert.deepEqual(probe.outsideConnects, []);
    assert.equal(probe.npmCacheCreated, false);
  });

  test("without the seed opencode does try the network (so the check above can fail)", async () => {
    const configHome = join(dir, "empty-config");
    await mkdir(configHome);
    const probe = await runProbe(dir, "control", configHome);
    assert.notDeepEqual(probe.outsideConnects, []);
  });
});

interface ProbeResult {
  stubRequests: number;
  /** connect() calls to anything but loopback or a unix socket. */
  outsideConnects: string[];
  npmCacheCreated: boolean;
}

async function runProbe(dir: string, name: string, configHome: string): Promise<ProbeResult> {
  const workDir = join(dir, name);
  for (const sub of ["home", "data", "cache", "state", "project"]) await mkdir(join(workDir, sub), { recursive: true });
  const script = join(dir, "probe.mjs");
  await writeFile(script, PROBE_SCRIPT);
  const straceOut = join(workDir, "strace.txt");
  const result = await runCommand(
    ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", process.execPath, script, HOST_OPENCODE_BIN, straceOut, workDir, configHome],
    { cwd: join(workDir, "project"), timeoutMs: 180_000 },
  );
  const trace = await readFile(straceOut, "utf8");
  const outsideConnects = trace
    .split("\n")
    .filter((line) => /connect\(/.test(line) && /AF_INET6?/.test(line))
    .filter((line) => !/inet_addr\("127\.0\.0\.1"\)|inet_pton\(AF_INET6, "::1"/.test(line));
  const npmCacheCreated = await access(join(workDir, "home/.npm")).then(() => true, () => false);
  return { stubRequests: Number.parseInt(result.stdout.trim().split("\n").pop() ?? "0", 10), outsideConnects, npmCacheCreated };
}

// Runs in a fresh network namespace: lo up, a stub provider on 127.0.0.1 answering 400 (which
// ends an opencode run at once), then opencode under strace. Prints the stub's request count.
const PROBE_SCRIPT = `
import http from "node:http";
import { spawn } from "node:child_process";
const [opencode, straceOut, workDir, configHome] = process.argv.slice(2);
let requests = 0;
const server = http.createServer((req, res) => {
  requests++;
  req.resume();
  res.writeHead(400, { "content-type": "application/json" });
  res.end('{"error":{"message":"stub says no","type":"invalid_request_error"}}');
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const baseURL = "http://127.0.0.1:" + server.address().port + "/v1";
const config = { provider: { stub: { npm: "@ai-sdk/openai-compatible", options: { baseURL, apiKey: "x" }, models: { m: {} } } }, model: "stub/m" };
const env = {
  PATH: process.env.PATH, HOME: workDir + "/home", XDG_CONFIG_HOME: configHome, XDG_DATA_HOME: workDir + "/data",
  XDG_CACHE_HOME: workDir + "/cache", XDG_STATE_HOME: workDir + "/state",
  OPENCODE_DISABLE_MODELS_FETCH: "1", OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
};
// Own process group: whatever opencode leaves running is ended with it, by group id.
const child = spawn("strace", ["-f", "-qq", "-e", "trace=connect", "-o", straceOut, opencode, "run", "say hi", "--format", "json"], { env, stdio: ["ignore", "ignore", "inherit"], detached: true });
const endGroup = () => { try { process.kill(-child.pid, "SIGKILL"); } catch {} };
const deadline = setTimeout(endGroup, 120000);
await new Promise((resolve) => child.on("close", resolve));
clearTimeout(deadline);
endGroup();
server.close();
console.log(requests);
`;
