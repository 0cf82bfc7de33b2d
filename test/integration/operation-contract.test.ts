// One contract, every front door: each operation of the registry is reachable from MCP (with
// its outputSchema and annotations), the control API, the CLI and the SDK — against a real
// daemon. The SDK example runs here too, and type-checks as a consumer would import it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { CONTRACTS, contracts } from "../../src/contract/registry.js";
import { isAgentisoError } from "../../src/core/errors.js";
import { connect, type Agentiso } from "../../src/sdk/index.js";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage, REPO_DIR } from "../support/base-image.js";
import { unixHttpClient, type McpTestClient } from "./mcp-clients.js";
import { realDaemonSkip } from "./mcp-tool-suite.js";

const NOT_A_FIELD = { __not_a_field__: 1 };

describe("every operation through every front door", { skip: realDaemonSkip, timeout: 900_000 }, () => {
  let cli: CliHarness;
  let mcp: McpTestClient;
  let sdk: Agentiso;

  before(async () => {
    await ensureImage("base");
    cli = new CliHarness();
    await cli.ok(["init", "--pool-size", "8G"]);
    await cli.ok(["workspace", "ls"]); // starts the daemon
    mcp = await unixHttpClient(join(cli.home, "agentiso.sock"), "contract-walk");
    sdk = connect({ home: cli.home });
  });
  after(async () => {
    await mcp?.[Symbol.asyncDispose]();
    await cli?.[Symbol.asyncDispose]();
  });

  test("MCP lists each operation with its title, outputSchema and the annotations its hints say", async () => {
    const { tools } = await mcp.client.listTools();
    assert.deepEqual(tools.map((t) => t.name), CONTRACTS.map((c) => c.name));
    for (const contract of CONTRACTS) {
      const tool = tools.find((t) => t.name === contract.name)!;
      assert.equal(tool.title, contract.title);
      assert.equal(tool.outputSchema?.type, "object", `${contract.name} has an object outputSchema`);
      const { hints } = contract;
      assert.deepEqual(
        { ...tool.annotations },
        { title: contract.title, readOnlyHint: hints.readOnly, destructiveHint: hints.destructive, idempotentHint: hints.idempotent, openWorldHint: hints.openWorld },
        `${contract.name}'s annotations`,
      );
    }
  });

  test("MCP results carry structuredContent that the official client validated against the tool's outputSchema", async () => {
    // callTool validates structuredContent against outputSchema itself and throws on a mismatch
    const pool = await mcp.client.callTool({ name: "workspace_pool", arguments: {} });
    assert.deepEqual(pool.structuredContent, JSON.parse((pool.content as Array<{ text: string }>)[0]!.text));
    const created = await mcp.client.callTool({ name: "workspace_create", arguments: { image: "base", memory: "256M" } });
    assert.equal(created.isError, undefined, JSON.stringify(created.content));
    const workspace = created.structuredContent as { name: string; state: string };
    assert.equal(workspace.state, "running");
    const listed = await mcp.client.callTool({ name: "workspace_list", arguments: {} });
    assert.deepEqual((listed.structuredContent as { result: Array<{ name: string }> }).result.map((w) => w.name), [workspace.name], "a list travels as {result: [...]}");
    const ran = await mcp.client.callTool({ name: "exec", arguments: { workspace: workspace.name, command: "echo hi" } });
    assert.equal((ran.structuredContent as { stdout: string }).stdout, "hi\n");
    await mcp.call("workspace_destroy", { workspace: workspace.name });
  });

  test("the control API routes every operation to its own validation", async () => {
    for (const contract of CONTRACTS) {
      await assert.rejects(
        sdk.run(contract, NOT_A_FIELD as never),
        (err) => isAgentisoError(err, "INVALID_INPUT") && err.message.startsWith(`invalid arguments for ${contract.name}:`),
        `${contract.name} over the control API`,
      );
    }
  });

  test("the SDK has a typed method for every operation, and each reaches the daemon", async () => {
    assert.deepEqual(Object.keys(sdk.operations).sort(), Object.keys(contracts).sort());
    for (const [key, contract] of Object.entries(contracts)) {
      const method = sdk.operations[key as keyof typeof contracts] as (input: unknown) => Promise<unknown>;
      await assert.rejects(method(NOT_A_FIELD), (err) => isAgentisoError(err, "INVALID_INPUT") && err.message.includes(`invalid arguments for ${contract.name}`), key);
    }
  });

  test("the CLI reaches every operation with agentiso op: generated help, validation, and a real call", async () => {
    for (const contract of CONTRACTS) {
      const help = await cli.run(["op", contract.name, "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`^usage: agentiso op ${contract.name}`));
      const bad = await cli.run(["op", contract.name, "--input", JSON.stringify(NOT_A_FIELD)]);
      assert.equal(bad.code, 2, `${contract.name}: ${bad.stderr}`);
      assert.match(bad.stderr, new RegExp(`invalid arguments for ${contract.name}`));
    }
    const created = JSON.parse(await cli.ok(["op", "workspace_create", "--image", "base", "--memory", "256M", "--name", "via-op"])) as { name: string };
    const ran = JSON.parse(await cli.ok(["op", "exec", "--workspace", "via-op", "--argv", "sh", "--argv", "-c", "--argv", "echo $X", "--env", '{"X":"from-op"}'])) as { stdout: string };
    assert.equal(ran.stdout, "from-op\n");
    const destroyed = JSON.parse(await cli.ok(["op", "workspace_destroy", "--workspace", created.name])) as { destroyed: string };
    assert.equal(destroyed.destroyed, "via-op");
  });

  test("the SDK example runs against the daemon: create, exec, snapshot, fork, destroy", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "examples/sdk-quickstart.ts"], { cwd: REPO_DIR, env: cli.env, encoding: "utf8", timeout: 300_000 });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.equal(run.stdout.match(/-worker-\d sees: fix the failing test/g)?.length, 2, run.stdout);
    assert.match(run.stdout, /^destroyed$/m);
    assert.deepEqual(JSON.parse(spawnSync(process.execPath, [join(REPO_DIR, "bin/agentiso.js"), "workspace", "ls", "--json"], { env: cli.env, encoding: "utf8" }).stdout), []);
  });
});

describe("the SDK as a consumer imports it", () => {
  test('`import { … } from "agentiso"` type-checks, and a wrong input does not', () => {
    const dir = mkdtempSync("/tmp/ais-sdk-consumer-");
    try {
      mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
      symlinkSync(REPO_DIR, join(dir, "node_modules", "agentiso"));
      symlinkSync(join(REPO_DIR, "node_modules", "@types", "node"), join(dir, "node_modules", "@types", "node"));
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", dependencies: { agentiso: "*" } }));
      const options = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, types: ["node"], lib: ["ES2023", "esnext.disposable"] };
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: options, files: ["quickstart.ts"] }));
      copyFileSync(join(REPO_DIR, "examples", "sdk-quickstart.ts"), join(dir, "quickstart.ts"));
      const tsc = (project: string) => spawnSync(process.execPath, [join(REPO_DIR, "node_modules/typescript/bin/tsc"), "-p", project], { cwd: dir, encoding: "utf8" });
      const good = tsc("tsconfig.json");
      assert.equal(good.status, 0, good.stdout + good.stderr);

      writeFileSync(join(dir, "wrong.ts"), 'import { connect } from "agentiso";\nawait connect().operations.exec({ workspace: 42, command: "ls" });\n');
      writeFileSync(join(dir, "tsconfig.wrong.json"), JSON.stringify({ compilerOptions: options, files: ["wrong.ts"] }));
      const wrong = tsc("tsconfig.wrong.json");
      assert.notEqual(wrong.status, 0, "a number where the contract says string must not type-check");
      assert.match(wrong.stdout, /wrong\.ts\(2,.*not assignable to type 'string'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
