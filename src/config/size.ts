// Human sizes ("512M", "4G", "1.5GiB") and durations ("90s", "10m") as they appear in flags,
// config files and plans, parsed in one place.
import { AgentisoError } from "../core/errors.js";

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

// Parses "512M", "4G", "20GiB", "1048576" into bytes (binary units).
export function parseSizeBytes(text: string | number): number {
  if (typeof text === "number") return text;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) throw new AgentisoError("INVALID_INPUT", `invalid size ${JSON.stringify(text)}: use a number with an optional unit K, M, G or T (e.g. 512M, 4G)`);
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// Parses "90s", "10m", "1h", "1500ms" or a bare number of seconds into milliseconds.
export function parseDurationMs(text: string | number): number {
  if (typeof text === "number") return text * 1000;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!match) throw new AgentisoError("INVALID_INPUT", `invalid duration ${JSON.stringify(text)}: use e.g. 90s, 10m, 1h`);
  return Math.round(Number(match[1]) * DURATION_UNITS[(match[2] ?? "s").toLowerCase()]!);
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
}
