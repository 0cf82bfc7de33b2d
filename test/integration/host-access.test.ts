// Escapes from the transfer area and host reads as root, tried through the public surface
// against the real daemon: an MCP session's git_clone of a `.git` file pointing at another host
// repository, stub scripts that are /dev/zero, a FIFO or a sparse 100 GiB file (MCP and CLI), and
// provider URLs aimed at the cloud metadata service, RFC 1918 or a host service. Each is refused
// with a clear error before anything is created or sent, and the daemon's RSS stays flat.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionTransferDir } from "../../src/core/host-paths.js";
import { runCommand } from "../../src/core/run-command.js";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage } from "../support/base-image.js";
import { stdioClient, type McpTestClient } from "./mcp-clients.js";
import { makeHostRepo, realDaemonSkip } from "./mcp-tool-suite.js";

const SESSION = "attacker";

describe("host access from an MCP session and from plans", { skip: realDaemonSkip, timeout: 600_000 }, () => {
  let cli: CliHarness;
  let mcp: McpTestClient;
  let dir: string;
  let secret: string;
  let hostService: Server;
  let hostServiceConnections = 0;
  let hostServicePort: number;

  const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${cli.daemonPid()}/status`, "utf8"))![1]);
  const names = async () => (await mcp.call<Array<{ name: string }>>("workspace_list")).map((w) => w.name);
  // The daemon's RSS around fn, printed; fn's work must not grow it by more than 32 MiB.
  async function rssFlat(label: string, fn: () => Promise<void>): Promise<void> {
    const before = rssKiB();
    await fn();
    const after = rssKiB();
    console.log(`${label}: daemon RSS ${before} KiB before, ${after} KiB after`);
    assert.ok(after - before < 32 * 1024, `${label}: daemon RSS grew by ${after - before} KiB`);
  }

  before(async () => {
    await ensureImage("base");
    hostService = createServer((socket) => (hostServiceConnections++, socket.destroy()));
    await new Promise<void>((resolve) => hostService.listen(0, "127.0.0.1", resolve));
    hostServicePort = (hostService.address() as { port: number }).port;
    // The operator allows a provider by hostname; it resolves to loopback, which stays refused.
    cli = new CliHarness({ AGENTISO_ALLOWED_BASE_URLS: `http://localhost:${hostServicePort}/v1` });
    writeFileSync(join(cli.home, "config.toml"), "[limits.create]\nperMinute = 600\nburst = 100\n"); // every refused orchestrate counts as a create
    await cli.ok(["init", "--pool-size", "8G"]);
    mcp = await stdioClient(cli, SESSION);
    await mcp.call("workspace_create", { name: "box", image: "base", memory: "128M" });
    dir = sessionTransferDir(join(cli.home, "transfer"), SESSION);
    mkdirSync(dir, { recursive: true });
    await makeHostRepo(join(dir, "repo"));
    secret = mkdtempSync(join(tmpdir(), "seca-secret-"));
    await makeHostRepo(secret);
    writeFileSync(join(secret, "README.md"), "TOP SECRET\n");
    await runCommand(["git", "-C", secret, "-c", "user.email=t@agentiso", "-c", "user.name=t", "commit", "-qam", "secret"]);
  });
  after(async () => {
    await mcp?.[Symbol.asyncDispose]();
    await cli?.[Symbol.asyncDispose]();
    hostService?.close();
    if (secret) rmSync(secret, { recursive: true, force: true });
  });

  test("git_clone of a `.git` file (gitdir: another host repo), a symlink to it or its absolute path is refused; nothing reaches the workspace", async () => {
    mkdirSync(join(dir, "trick"));
    writeFileSync(join(dir, "trick", ".git"), `gitdir: ${secret}/.git\n`);
    symlinkSync(secret, join(dir, "link"));
    await rssFlat("gitdir trick", async () => {
      const trick = await mcp.fails("git_clone", { workspace: "box", hostPath: "trick", dest: "/src/trick" });
      assert.equal(trick.code, "PERMISSION_DENIED");
      assert.match(trick.text, /\.git is a file \(gitdir: \.\.\.\), which may point anywhere on the host: refused/);
      for (const hostPath of ["link", secret, `${dir}/../../..${secret}`]) {
        assert.equal((await mcp.fails("git_clone", { workspace: "box", hostPath, dest: "/src/x" })).code, "PERMISSION_DENIED", hostPath);
      }
    });
    const seen = await mcp.call<{ stdout: string }>("exec", { workspace: "box", command: "ls -a /src /tmp 2>&1; cat /src/*/README.md 2>/dev/null; true" });
    assert.doesNotMatch(seen.stdout, /trick|TOP SECRET|README/);
    await makeHostRepo(join(dir, "mine"));
    assert.match((await mcp.call<{ commit: string }>("git_clone", { workspace: "box", hostPath: "mine", dest: "/src/mine" })).commit, /^[0-9a-f]{40}$/, "the session's own repo still clones");
  });

  test("stub scripts that are /dev/zero, a symlink to it, a FIFO or a sparse 100 GiB file are refused before any workspace; the daemon's RSS stays flat", async () => {
    symlinkSync("/dev/zero", join(dir, "zero.json"));
    await runCommand(["mkfifo", join(dir, "fifo.json")]);
    closeSync(openSync(join(dir, "huge.json"), "w"));
    truncateSync(join(dir, "huge.json"), 100 * 1024 ** 3);
    const plan = (stubScript: string) => ({ golden: { repo: "repo", network: "none" }, model: { provider: "stub", stub_script: stubScript }, task: [{ name: "t1", prompt: "hi" }] });
    const before = await names();
    await rssFlat("stub scripts over MCP", async () => {
      for (const [stubScript, code, words] of [
        ["/dev/zero", "PERMISSION_DENIED", /outside the transfer directory/],
        ["zero.json", "PERMISSION_DENIED", /leaves the transfer directory/],
        ["fifo.json", "INVALID_INPUT", /not a regular file/],
        ["huge.json", "INVALID_INPUT", /is 107374182400 bytes, over the 4194304-byte limit/],
        ["/root/.bash_history", "PERMISSION_DENIED", /outside the transfer directory/],
      ] as const) {
        const started = performance.now();
        const failure = await mcp.fails("orchestrate", { plan: plan(stubScript), baseDir: ".", resultsDir: "results" });
        assert.equal(failure.code, code, `${stubScript}: ${failure.text}`);
        assert.match(failure.text, words);
        assert.ok(performance.now() - started < 10_000, `${stubScript} answered at once`);
      }
    });
    assert.deepEqual(await names(), before, "no golden or worker was created");

    const planDir = mkdtempSync(join(tmpdir(), "seca-plan-"));
    const planFile = join(planDir, "plan.toml");
    writeFileSync(planFile, `[golden]\nrepo = "${join(dir, "repo")}"\nnetwork = "none"\n[model]\nprovider = "stub"\nstub_script = "/dev/zero"\n[[task]]\nname = "t1"\nprompt = "hi"\n`);
    await rssFlat("stub script /dev/zero from the CLI", async () => {
      const run = await cli.run(["orchestrate", planFile, "--results", join(tmpdir(), "seca-results-never")]);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /stub script \/dev\/zero is not a regular file/);
    });
    rmSync(planDir, { recursive: true, force: true });
    assert.equal((await mcp.call<{ stdout: string }>("exec", { workspace: "box", command: "echo alive" })).stdout, "alive\n", "the daemon goes on");
  });

  test("a base_url at the metadata service, RFC 1918, loopback or an allowed name that resolves to loopback is refused before any packet", async () => {
    const plan = (baseUrl: string) => ({
      golden: { repo: "repo", network: "none" },
      model: { provider: "openai-compatible", base_url: baseUrl, model: "m", api_key_env: "KEY" },
      task: [{ name: "t1", prompt: "hi" }],
    });
    const before = await names();
    for (const [baseUrl, words] of [
      ["http://169.254.169.254/latest", /not an allowed provider/],
      ["http://10.0.0.1/v1", /not an allowed provider/],
      [`http://127.0.0.1:${hostServicePort}/v1`, /not an allowed provider/],
      [`http://localhost:${hostServicePort}/v1`, /resolves to .*(127\.0\.0\.1|::1).*allowPrivateBaseUrls/],
    ] as const) {
      const started = performance.now();
      const failure = await mcp.fails("orchestrate", { plan: plan(baseUrl), baseDir: ".", resultsDir: "results", apiKey: "sk-not-for-you" });
      assert.equal(failure.code, "PERMISSION_DENIED", `${baseUrl}: ${failure.text}`);
      assert.match(failure.text, words);
      assert.ok(performance.now() - started < 5_000, `${baseUrl} refused at once`);
    }
    assert.equal(hostServiceConnections, 0, "the host service saw no connection");
    assert.deepEqual(await names(), before, "no golden or worker was created");
  });
});
