// The lifecycle flags of `workspace create`, `fork` and `lifecycle` (--ttl, --idle-timeout and
// their actions; --on-expire sets the action of each limit given with it), and how a
// workspace's deadlines read for a person.
import { AgentisoError } from "../core/errors.js";
import { formatDuration } from "../config/duration.js";
import type { Workspace } from "../contract/result-schemas.js";
import { stringValue, type Values } from "./command.js";

export const LIFECYCLE_OPTIONS = {
  ttl: { type: "string" },
  "ttl-action": { type: "string" },
  "idle-timeout": { type: "string" },
  "idle-action": { type: "string" },
  "on-expire": { type: "string" },
} as const;

export const LIFECYCLE_USAGE = "[--ttl 24h|none] [--idle-timeout 30m|none] [--on-expire stop|destroy] [--ttl-action A] [--idle-action A]";

// The operation's lifecycle fields from the flags (validated by the operation's schema).
export function lifecycleFlags(values: Values): Record<string, string | undefined> {
  const ttl = stringValue(values, "ttl");
  const idleTimeout = stringValue(values, "idle-timeout");
  const onExpire = stringValue(values, "on-expire");
  if (onExpire !== undefined && ttl === undefined && idleTimeout === undefined) {
    throw new AgentisoError("INVALID_INPUT", "--on-expire goes with --ttl or --idle-timeout (to change the action of a limit already set: --ttl-action or --idle-action)");
  }
  return {
    ttl,
    ttlAction: stringValue(values, "ttl-action") ?? (ttl === undefined ? undefined : onExpire),
    idleTimeout,
    idleAction: stringValue(values, "idle-action") ?? (idleTimeout === undefined ? undefined : onExpire),
  };
}

// "ttl: destroy at 2027-01-01T10:00:00.000Z (in 23h59m)"-style lines, one per limit; none without limits.
export function lifecycleLines(ws: Pick<Workspace, "lifecycle">, nowMs = Date.now()): string[] {
  const { ttl, idle } = ws.lifecycle ?? {};
  const lines: string[] = [];
  if (ttl) lines.push(`ttl: ${ttl.action} at ${ttl.at} (${relative(Date.parse(ttl.at) - nowMs)})`);
  if (idle) {
    const when = idle.at ? `at ${idle.at} (${relative(Date.parse(idle.at) - nowMs)}) unless used` : "does not apply in this state";
    lines.push(`idle: ${idle.action} after ${formatDuration(idle.timeoutSeconds)} without activity, ${when}; last activity ${idle.lastActivityAt}`);
  }
  return lines;
}

function relative(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  return ms >= 0 ? `in ${formatDuration(seconds)}` : `${formatDuration(seconds)} overdue`;
}
