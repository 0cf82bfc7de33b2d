// The wire names of the operations the hot commands (exec-command.ts, fork-command.ts) send.
// They load no contract (zod) so the fast path stays light; test/unit/cli-fast-path.test.ts
// checks each name against its contract.
import type { Contracts } from "../../contract/registry.js";

export const HOT_OPERATIONS = { exec: "exec", workspaceFork: "workspace_fork" } as const satisfies Partial<Record<keyof Contracts, string>>;
