// The agentiso SDK in one page: create a workspace, run commands in it, snapshot it, fork it
// (copy-on-write), and destroy everything. Needs a running daemon of the state dir
// ($AGENTISO_HOME, default /var/lib/agentiso; any `agentiso` command starts one) and the
// "base" image (`agentiso image build base`).
//   npx tsx examples/sdk-quickstart.ts
import { connect, isAgentisoError } from "agentiso";

const agentiso = connect();

const golden = await agentiso.workspaces.create({ image: "base", memory: "256M" });
console.log(`created ${golden.name} (${golden.id})`);
try {
  const uname = await golden.exec("uname -sr");
  console.log(`kernel: ${uname.stdout.trim()} (exit ${uname.exitCode})`);

  await golden.writeFile("/workspace/task.txt", "fix the failing test\n");
  const snapshot = await golden.snapshot("golden");
  console.log(`snapshot ${"name" in snapshot ? snapshot.name : "?"} taken`);

  const workers = await golden.fork({ snapshot: "golden", count: 2, namePrefix: `${golden.name}-worker` });
  try {
    for (const worker of workers) {
      const seen = await worker.exec(["cat", "/workspace/task.txt"]);
      console.log(`${worker.name} sees: ${seen.stdout.trim()}`);
    }
    // A typed call of any operation of the registry:
    const listed = await agentiso.operations.workspaceList({ state: "running" });
    console.log(`running workspaces: ${listed.length}`);
  } finally {
    for (const worker of workers) await worker.destroy();
  }
} catch (err) {
  // Errors are AgentisoError with a code (NOT_FOUND, INVALID_INPUT, TIMEOUT, ...).
  console.error(isAgentisoError(err) ? `${err.code}: ${err.message}` : err);
  process.exitCode = 1;
} finally {
  await golden.destroy();
  console.log("destroyed");
}
