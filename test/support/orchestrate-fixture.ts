// A small git repo, a stub model on loopback and a plan for `agentiso orchestrate`, shared by
// the orchestration tests.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../../src/core/run-command.js";
import type { StubScriptInput } from "../../src/llm/stub-script.js";
import { startStubServer, type StubServer } from "../../src/llm/stub-server.js";

export interface OrchestrateFixture extends AsyncDisposable {
  dir: string;
  repo: string;
  stub: StubServer;
  /** Writes PLAN.toml and returns its path. */
  plan(toml: string): string;
  git(...args: string[]): Promise<string>;
}

/** Each task edits its own file: one → ONE in <x>.txt. */
export function editTask(name: string, file: string): StubScriptInput["rules"] extends (infer R)[] | undefined ? R : never {
  return {
    name,
    match: { firstUserMessageContains: `TASK-${name}` },
    steps: [
      { toolCalls: [{ name: "edit", arguments: { filePath: `{{workdir}}/${file}`, oldString: "one", newString: `ONE by ${name}` } }] },
      { text: `Edited ${file}.` },
    ],
  };
}

export async function orchestrateFixture(script: StubScriptInput): Promise<OrchestrateFixture> {
  const dir = mkdtempSync("/tmp/ais-orch-fixture-");
  const repo = join(dir, "repo");
  const git = async (...args: string[]) => (await runCommand(["git", "-C", repo, "-c", "user.email=t@agentiso", "-c", "user.name=t", ...args])).stdout;
  await runCommand(["git", "init", "-q", repo]);
  for (const file of ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"]) writeFileSync(join(repo, file), `${file}: one\n`);
  writeFileSync(join(repo, ".gitignore"), "node_modules/\n");
  await git("add", ".");
  await git("commit", "-qm", "initial");
  const stub = await startStubServer({ script });
  return {
    dir,
    repo,
    stub,
    git,
    plan(toml: string) {
      const path = join(dir, "plan.toml");
      writeFileSync(path, toml);
      return path;
    },
    async [Symbol.asyncDispose]() {
      await stub.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function taskToml(name: string, extra = ""): string {
  return `[[task]]\nname = "${name}"\nprompt = "TASK-${name}: do your part. ${extra}"\n`;
}

export interface StubPlanOptions {
  repo: string;
  stubUrl: string;
  tasks: string[];
  keyEnv: string;
  maxParallel?: number;
  /** Extra lines for [model], e.g. 'key_mode = "env"'. */
  model?: string;
  /** Extra lines for [run], e.g. 'merge = "branch-per-task"'. */
  run?: string;
  /** Extra lines for [golden], e.g. 'runtime = "vm"'. */
  golden?: string;
  /** The golden's network while cloning and running setup; default "none". */
  goldenNetwork?: "none" | "egress";
  /** Per-task timeout; default "5m". */
  timeout?: string;
}

// A plan whose golden is `repo` and whose model is the stub behind the keyless proxy.
export function stubPlanToml(options: StubPlanOptions): string {
  return `[golden]
image = "opencode"
repo = "${options.repo}"
network = "${options.goldenNetwork ?? "none"}"
${options.golden ?? ""}

[model]
provider = "openai-compatible"
base_url = "${options.stubUrl}"
api_key_env = "${options.keyEnv}"
${options.model ?? ""}

[run]
max_parallel = ${options.maxParallel ?? options.tasks.length}
timeout = "${options.timeout ?? "5m"}"
${options.run ?? ""}

${options.tasks.map((t) => taskToml(t)).join("\n")}
`;
}
