// "host:port", "[::1]:port" or just "port" (then loopback) — the form of every listen setting.
import { AgentisoError } from "../core/errors.js";

export interface ListenAddress {
  host: string;
  port: number;
}

// Parses a listen setting; a bare port means 127.0.0.1 (never all interfaces by accident).
export function parseListenAddress(text: string, setting: string): ListenAddress {
  const trimmed = text.trim();
  const match = /^(\d{1,5})$/.exec(trimmed) ?? /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(trimmed);
  const port = Number(match?.[match.length - 1]);
  if (!match || port > 65535) throw new AgentisoError("INVALID_INPUT", `${setting} ${JSON.stringify(text)} is not host:port (e.g. 127.0.0.1:9464, or 0 for any free port)`);
  return { host: match.length === 2 ? "127.0.0.1" : (match[1] ?? match[2]!), port };
}
