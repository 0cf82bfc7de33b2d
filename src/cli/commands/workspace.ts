// `agentiso workspace` (alias `ws`): the subcommands, in help order.
import type { CliCommand } from "../command.js";
import { createCommand, destroyCommand, infoCommand, listCommand, logsCommand, networkCommand, startCommand, stopCommand } from "./workspace-lifecycle.js";
import { cpCommand, envCommand } from "./workspace-exec.js";
import { execCommand } from "./exec-command.js";
import { forkCommand } from "./fork-command.js";
import { mkdirCommand, mvCommand, rmFileCommand, statCommand } from "./workspace-files.js";
import { gitCheckoutCommand, gitLogCommand, mergeCommand } from "./workspace-git.js";
import { portCommand } from "./workspace-ports.js";
import { shellCommand } from "./workspace-shell.js";
import { lifecycleCommand, pauseCommand, resumeCommand } from "./workspace-limits.js";
import { restoreCommand, snapshotCommand, snapshotRmCommand, snapshotsCommand } from "./workspace-snapshots.js";

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
  portCommand,
  execCommand,
  shellCommand,
  envCommand,
  cpCommand,
  statCommand,
  mkdirCommand,
  rmFileCommand,
  mvCommand,
  gitLogCommand,
  gitCheckoutCommand,
  mergeCommand,
  snapshotCommand,
  snapshotsCommand,
  restoreCommand,
  snapshotRmCommand,
  forkCommand,
];
