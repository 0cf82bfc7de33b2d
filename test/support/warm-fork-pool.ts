// Warm forks ([pool] forksPerSnapshot) through the real CLI: the fork pool of a snapshot as
// `agentiso op workspace_pool` lists it, and waiting for it to fill.
import type { CliHarness } from "./cli-harness.js";

export const FORK_POOL_CONFIG = "[pool]\nforksPerSnapshot = 2\n";

export interface ForkPool {
  key: string;
  forkOf: { workspace: string; snapshot: string };
  ready: number;
  hits: number;
  misses: number;
}

// The pool of forks of `workspace`@`snapshot` (undefined: none begun, or dropped).
export async function forkPoolOf(cli: CliHarness, workspace: string, snapshot: string): Promise<ForkPool | undefined> {
  const { pools } = JSON.parse(await cli.ok(["op", "workspace_pool"])) as { pools: Array<Partial<ForkPool>> };
  return pools.find((p) => p.forkOf?.workspace === workspace && p.forkOf.snapshot === snapshot) as ForkPool | undefined;
}

export async function untilForkPool(cli: CliHarness, workspace: string, snapshot: string, wanted: (p: ForkPool) => boolean, what: string): Promise<ForkPool> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const pool = await forkPoolOf(cli, workspace, snapshot);
    if (pool && wanted(pool)) return pool;
    if (Date.now() > deadline) throw new Error(`fork pool of ${workspace}@${snapshot}: ${what} not reached: ${JSON.stringify(pool)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
