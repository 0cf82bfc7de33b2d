// Reads the bytes out of an output progress event (output-event.ts) without zod: the CLI's fast
// path (src/cli/fast-path.ts) streams `ws exec` output through this and must not load zod.
type OutputStream = "stdout" | "stderr" | "log";
const STREAMS: ReadonlySet<string> = new Set<OutputStream>(["stdout", "stderr", "log"]);

// The event's bytes when it is an output event (OutputEventSchema's shape), else undefined.
export function outputBytesOf(event: unknown): { stream: OutputStream; bytes: Buffer } | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const { type, stream, data } = event as Record<string, unknown>;
  if (type !== "output" || typeof stream !== "string" || !STREAMS.has(stream) || typeof data !== "string") return undefined;
  return { stream: stream as OutputStream, bytes: Buffer.from(data, "base64") };
}
