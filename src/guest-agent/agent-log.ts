// The agent's own tiny logger (it may import nothing but protocol/): JSON lines on stderr,
// constant messages, data in fields. Never given env values or file contents.

export interface AgentLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

// Writes JSON lines to stderr; `quiet` drops info lines (tests).
export function createAgentLog(quiet = false): AgentLog {
  const write = (level: string, msg: string, fields?: Record<string, unknown>) =>
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, msg, component: "agentiso-guest", ...fields }) + "\n");
  return {
    info: (msg, fields) => {
      if (!quiet) write("info", msg, fields);
    },
    warn: (msg, fields) => write("warn", msg, fields),
  };
}

export const silentAgentLog: AgentLog = { info: () => {}, warn: () => {} };
