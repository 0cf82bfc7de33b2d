// One file of the results directory, opened with O_NOFOLLOW: a symlink planted where a
// results file goes is refused, not written through.
import { constants } from "node:fs";
import { writeFile } from "node:fs/promises";

const WRITE_NO_FOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

// Writes (or replaces) a results file.
export function writeResult(path: string, data: string): Promise<void> {
  return writeFile(path, data, { flag: WRITE_NO_FOLLOW });
}
