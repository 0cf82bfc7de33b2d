// The `agentiso` command (bundled to dist/cli.mjs). `ws exec` and `ws fork` against a running
// daemon take the fast path (fast-path.ts: no contracts, no config schema loaded); everything
// else loads the full CLI (main.ts) first.
import { runFastPath } from "./fast-path.js";
import { restoreDeferredNodeEnv } from "./deferred-node-env.js";

restoreDeferredNodeEnv(process.env);

const argv = process.argv.slice(2);
const code = await runFastPath(argv, process.env);
if (code === undefined) await (await import("./main.js")).runCli(argv);
else process.exitCode = code;
