// zod compiles a parser for each object schema the first time it parses (code generated and
// run through `new Function`): ~5 ms per message kind on this machine, paid by a workspace's
// first hello and first exec. Run while the agent's startup snapshot is built (main.ts), one
// parse of each kind puts those parsers in the snapshot instead.
import { ClientMessageSchema, PROTOCOL_VERSION, REQUEST_TYPES } from "../protocol/index.js";

// Valid samples of the messages every workspace sees first; the other kinds are warmed by a
// minimal (rejected) message, which still compiles their top-level parser.
export const WARM_SAMPLES: readonly object[] = [
  { id: 1, type: "hello", version: PROTOCOL_VERSION },
  { id: 2, type: "exec", argv: ["true"], cwd: "/", env: { LANG: "C.UTF-8" }, timeoutMs: 1000, maxOutputBytes: 1024 },
  { id: 3, type: "exec", shell: "true" },
  { id: 4, type: "data", data: "AA==" },
  { id: 4, type: "end" },
  { id: 4, type: "ack", bytes: 1 },
];

export function warmMessageSchemas(): void {
  for (const sample of WARM_SAMPLES) ClientMessageSchema.safeParse(sample);
  for (const type of REQUEST_TYPES) ClientMessageSchema.safeParse({ id: 5, type });
}
