// `agentiso workspace` (alias `ws`): the subcommands, in help order.
import type { CliCommand } from "../command.js";
import { createCommand, destroyCommand, infoCommand, listCommand, logsCommand, networkCommand, startCommand, stopCommand } from "./workspace-lifecycle.js";
import { cpCommand, envCommand, execCommand } from "./workspace-exec.js";
import { shellCommand } from "./workspace-shell.js";
import { forkCommand, restoreCommand, snapshotCommand, snapshotRmCommand, snapshotsCommand } from "./workspace-snapshots.js";

export const WORKSPACE_COMMANDS: readonly CliCommand[] = [
  createCommand,
  listCommand,
  infoCommand,
  logsCommand,
  startCommand,
  stopCommand,
  destroyCommand,
  networkCommand,
  execCommand,
  shellCommand,
  envCommand,
  cpCommand,
  snapshotCommand,
  snapshotsCommand,
  restoreCommand,
  snapshotRmCommand,
  forkCommand,
];
