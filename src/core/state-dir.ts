// The state dir holds the database, the pool mount and the control socket. Its mode is 0711:
// nobody else may list it, but the unprivileged uid that root inside a container maps to must
// be able to traverse it to reach its own rootfs on the pool mounted below.
import { chmodSync, mkdirSync } from "node:fs";

export const STATE_DIR_MODE = 0o711;

// Creates the state dir if needed and sets its mode.
export function ensureStateDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: STATE_DIR_MODE });
  chmodSync(path, STATE_DIR_MODE);
  return path;
}
