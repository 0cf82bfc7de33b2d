// Any toolchain image holds a golden that workers run opencode in: a golden from the `node`
// image runs `npm ci`, one from the `python` image `pip install`, each against a package index
// served on the golden's own loopback (its network stays "none"); then a worker forked from it
// runs the real opencode (scripted stub model) and uses the installed package.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CliHarness } from "../support/cli-harness.js";
import { ensureImage, HOST_OPENCODE_BIN } from "../support/base-image.js";
import { hasCommand, hasPath, isRoot, requires } from "../support/prereq.js";
import { orchestrateFixture, taskToml } from "../support/orchestrate-fixture.js";
import { NODE_PROJECT, PYTHON_PROJECT, type ToolchainProject } from "../support/toolchain-projects.js";

const skip = requires(isRoot(), hasCommand("runc"), hasCommand("mkfs.btrfs"), hasCommand("mmdebstrap"), hasPath(HOST_OPENCODE_BIN, "opencode-linux-x64 npm package (npm ci)"));

interface Report {
  tasks: Array<{ name: string; status: string; reason: string; filesChanged: string[]; patch: string; toolCalls: unknown[] }>;
}

async function runGoldenFrom(image: "node" | "python", project: ToolchainProject): Promise<void> {
  await ensureImage(image);
  const task = `use-${image}-dep`;
  await using fixture = await orchestrateFixture({
    rules: [
      {
        name: task,
        match: { firstUserMessageContains: `TASK-${task}` },
        steps: [{ toolCalls: [{ name: "bash", arguments: { command: `{ ${project.probe}; } > dep.txt 2>&1`, description: "use the installed package" } }] }, { text: "Used it." }],
      },
    ],
    default: { text: "nothing to do" },
  });
  await project.addTo(fixture.repo);
  await fixture.git("add", "-A");
  await fixture.git("commit", "-qm", `${image} project`);
  const plan = fixture.plan(`
[golden]
image = "${image}"
repo = "${fixture.repo}"
setup = [${JSON.stringify(project.setup)}]
network = "none"

[model]
provider = "openai-compatible"
base_url = "${fixture.stub.url}"
api_key_env = "AGENTISO_TEST_KEY"

[run]
max_parallel = 1
timeout = "4m"

${taskToml(task)}
`);
  await using cli = new CliHarness({ AGENTISO_TEST_KEY: "sk-test-toolchain" });
  const results = join(fixture.dir, "results");
  const run = await cli.run(["orchestrate", plan, "--results", results], { timeoutMs: 900_000 });
  const report = JSON.parse(readFileSync(join(results, "report.json"), "utf8")) as Report;
  assert.equal(run.code, 0, `${run.stderr}\n${JSON.stringify(report.tasks.map((t) => t.toolCalls))}`);
  assert.match(run.stderr, /opencode: shared \/\.agentiso\/bin\/opencode \(0 bytes layered in/, "the container runtime's shared copy runs in this image: nothing is copied into the golden");
  const result = report.tasks[0]!;
  assert.equal(result.status, "succeeded", result.reason);
  assert.deepEqual(result.filesChanged, ["dep.txt"], "the installed packages are not in the patch");
  assert.match(result.patch, new RegExp(`\\+${project.greeting}\\n`), "the worker imported the package the golden installed");
  for (const path of project.served) assert.match(result.patch, new RegExp(`GET ${path.replaceAll(".", "\\.")}[ \\n]`), `the golden's index served ${path}`);
  assert.deepEqual(await cli.json(["ws", "ls"]), [], "the worker and the golden are destroyed");
}

describe("orchestrate from toolchain images", { skip, timeout: 1_800_000 }, () => {
  test("node: the golden runs npm ci against its own loopback registry; a worker runs opencode and requires the package", async () => {
    await runGoldenFrom("node", NODE_PROJECT);
  });

  test("python: the golden pip-installs from its own loopback index into a venv; a worker runs opencode and imports the package", async () => {
    await runGoldenFrom("python", PYTHON_PROJECT);
  });
});
