// Writes a chunk and, when the stream's buffer is full (a slow reader), returns a promise that
// waits for it to drain (or close): a producer that awaits it is slowed by its reader instead
// of filling memory. The control API's NDJSON and the CLI's stdout both stream this way.
import type { Writable } from "node:stream";

export function writeDrained(stream: Writable, chunk: string | Buffer): void | Promise<void> {
  if (stream.destroyed || stream.write(chunk)) return;
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}
