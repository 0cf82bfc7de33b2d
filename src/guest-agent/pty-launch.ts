// How pty_open starts its command. Node cannot open a pseudo-terminal without a native
// module, and the agent is one dependency-free file, so util-linux `script` opens it:
// `script -qefc 'stty rows R cols C; exec CMD' /dev/null` runs CMD on a new pty (its own
// session, the pty its controlling terminal) and relays the pty to its stdin/stdout pipes,
// which the agent holds. `stty` sets the first window size before CMD starts (no program ever
// sees 0x0) and later resizes (pty-resizer.ts). Both are Essential in Debian (bsdutils,
// coreutils); an image without them gets UNSUPPORTED naming what is missing.
import { accessSync, constants } from "node:fs";
import type { RequestOf } from "../protocol/index.js";
import { WireError } from "./wire-error.js";

/** PATH used when the command's environment has none. */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** The shell run when pty_open names no command: the first of these the image has. */
export const LOGIN_SHELLS = ["/bin/bash", "/bin/sh"];
/** TERM when the client sends none: a terminal every Debian image has terminfo for. */
export const DEFAULT_TERM = "xterm-256color";

export interface PtyLaunch {
  /** script and its arguments, to spawn in a new process group. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Absolute path of stty, for resizes. */
  stty: string;
}

// Builds the script command line for a pty_open request; throws when the image cannot do it.
export function ptyLaunch(request: RequestOf<"pty_open">, env: NodeJS.ProcessEnv): PtyLaunch {
  if (request.argv !== undefined && request.shell !== undefined) {
    throw new WireError("INVALID_REQUEST", "give at most one of argv (no shell) or shell (run by /bin/sh -c); neither runs the login shell");
  }
  const path = env.PATH ?? DEFAULT_PATH;
  const script = findInPath("script", path);
  const stty = findInPath("stty", path);
  if (!script || !stty) {
    const missing = [!script && "`script` (util-linux; Debian package bsdutils)", !stty && "`stty` (coreutils)"].filter(Boolean).join(" and ");
    throw new WireError("UNSUPPORTED", `a terminal needs ${missing} in the workspace image: not found in PATH ${path}`);
  }
  const loginShell = LOGIN_SHELLS.find(isExecutable) ?? "/bin/sh";
  const argv = request.argv ?? (request.shell !== undefined ? ["/bin/sh", "-c", request.shell] : [loginShell]);
  // script runs the line with $SHELL -c, so SHELL is /bin/sh for script and the session's own inside
  const line = `${shellQuote(stty)} rows ${request.rows} cols ${request.cols}; SHELL=${shellQuote(env.SHELL ?? loginShell)}; export SHELL; exec ${argv.map(shellQuote).join(" ")}`;
  return {
    argv: [script, "-qefc", line, "/dev/null"],
    env: { ...env, TERM: env.TERM ?? DEFAULT_TERM, SHELL: "/bin/sh" },
    stty,
  };
}

// The first executable `name` in the PATH list, or undefined.
export function findInPath(name: string, path: string): string | undefined {
  for (const dir of path.split(":")) {
    if (!dir.startsWith("/")) continue; // a relative PATH entry would depend on the cwd
    const candidate = `${dir.replace(/\/+$/, "")}/${name}`;
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Quotes one word for /bin/sh: single quotes, with each ' written as '\''. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
