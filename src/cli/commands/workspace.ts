// `agentiso workspace` (alias `ws`): the subcommands, in help order.
import type { CliCommand } from "../command.js";
import { createCommand, destroyCommand, infoCommand, listCommand, logsCommand, networkCommand, startCommand, stopCommand } from "./workspace-lifecycle.js";
import { cpCommand, envCommand, execCommand } from "./workspace-exec.js";
import { lifecycleCommand, pauseCommand, resumeCommand } from "./workspace-limits.js";
import { forkCommand, restoreCommand, snapshotCommand, snapshotRmCommand, snapshotsCommand } from "./workspace-snapshots.js";

export const WORKSPACE_COMMANDS: readonly CliCommand[] = [
  createCommand,
  listCommand,
  infoCommand,
  logsCommand,
  startCommand,
  stopCommand,
  pauseCommand,
  resumeCommand,
  lifecycleCommand,
  destroyCommand,
  networkCommand,
  execCommand,
  envCommand,
  cpCommand,
  snapshotCommand,
  snapshotsCommand,
  restoreCommand,
  snapshotRmCommand,
  forkCommand,
];
