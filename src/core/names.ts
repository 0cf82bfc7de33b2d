// Names become path components, dataset names and argv words of host tools, so they are
// validated in one place: no path traversal, no option injection ("-o ..."), no surprises.
import { AgentisoError } from "./errors.js";

const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && !name.includes("..");
}

// Throws INVALID_INPUT with a message that says what a valid name looks like.
export function assertValidName(name: string, what = "name"): string {
  if (typeof name !== "string" || !isValidName(name)) {
    throw new AgentisoError(
      "INVALID_INPUT",
      `invalid ${what} ${JSON.stringify(name)}: use 1-63 characters from a-z 0-9 _ . - starting with a letter or digit, and no ".."`,
    );
  }
  return name;
}
