// Lifecycle durations as people type them — 90, "90s", "30m", "2h", "1d", "1h30m", "2 hours" —
// parsed to whole seconds, or to null for "no limit" ("none", "off", "never", 0). Used by the
// operations' arguments, the CLI flags and config.toml's [lifecycle], so all three agree.
import { AgentisoError } from "../core/errors.js";

/** The longest limit accepted: one year. */
export const MAX_DURATION_SECONDS = 365 * 24 * 3600;

const UNIT_SECONDS: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86_400, day: 86_400, days: 86_400,
  w: 604_800, week: 604_800, weeks: 604_800,
};
const NONE = new Set(["none", "off", "never", "0"]);
const PART = /(\d+(?:\.\d+)?)\s*([a-z]*)\s*/gy;

// Seconds (at least 1), or null for no limit; INVALID_INPUT naming what was typed otherwise.
export function parseDurationSeconds(value: string | number, what = "duration"): number | null {
  if (typeof value === "number") return checked(value === 0 ? null : value, value, what);
  const text = value.trim().toLowerCase();
  if (NONE.has(text)) return null;
  let seconds = 0;
  let parsed = 0;
  PART.lastIndex = 0;
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    // a bare number is seconds only on its own: "2h30" could mean minutes
    const bare = match[2] === "" && match.index === 0 && PART.lastIndex === text.length;
    const unit = bare ? 1 : UNIT_SECONDS[match[2]!];
    if (unit === undefined) return invalid(value, what);
    seconds += Number(match[1]) * unit;
    parsed = PART.lastIndex;
  }
  if (text === "" || parsed !== text.length) return invalid(value, what);
  return checked(Math.round(seconds), value, what);
}

// "2h", "30m", "1d2h", "45s": the shortest exact spelling of a number of seconds.
export function formatDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60]] as const) {
    if (rest >= size) parts.push(`${Math.floor(rest / size)}${unit}`);
    rest %= size;
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.join("");
}

function checked(seconds: number | null, typed: string | number, what: string): number | null {
  if (seconds === null) return null;
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > MAX_DURATION_SECONDS || !Number.isInteger(seconds)) {
    throw new AgentisoError("INVALID_INPUT", `invalid ${what} ${JSON.stringify(typed)}: give whole seconds from 1 to ${MAX_DURATION_SECONDS} (365d), or "none"`);
  }
  return seconds;
}

function invalid(typed: string | number, what: string): never {
  throw new AgentisoError("INVALID_INPUT", `invalid ${what} ${JSON.stringify(typed)}: use seconds or a number with a unit, e.g. 90s, 30m, 2h, 1d, 1h30m; "none" for no limit`);
}
