// The progress event an operation that runs a command streams for each chunk of its output
// (exec, exec_background follow, workspace_logs follow): the bytes as base64, since output
// need not be text. The control API sends it as an NDJSON `progress` line; MCP as a
// notifications/progress message with the text.
import { z } from "zod";

export const OutputEventSchema = z.object({
  type: z.literal("output"),
  stream: z.enum(["stdout", "stderr", "log"]).describe("where the bytes came from: the command's stdout or stderr, or the workspace's log"),
  data: z.string().describe("the bytes, base64"),
});
export type OutputEvent = z.infer<typeof OutputEventSchema>;

// An output event for bytes of a stream.
export function outputEvent(stream: OutputEvent["stream"], bytes: Buffer): OutputEvent {
  return { type: "output", stream, data: bytes.toString("base64") };
}

export { outputBytesOf } from "./output-bytes.js";
