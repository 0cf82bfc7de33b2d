// QMP is one JSON object per line. Its reader refuses to hold more than `maxLineBytes` of one
// line, so a broken peer cannot grow our memory without limit.
import { AgentisoError } from "../../core/errors.js";
import { LineReader } from "../../core/line-reader.js";

/** Long enough for `query-qmp-schema` (~200 KiB on QEMU 7.2) with a wide margin. */
export const MAX_QMP_LINE_BYTES = 4 * 1024 * 1024;

// QMP's policy on the shared line reader: CRLF tolerated, BACKEND_FAILED past the limit.
export class QmpLineReader extends LineReader {
  constructor(maxLineBytes = MAX_QMP_LINE_BYTES) {
    super({
      maxLineBytes,
      stripCarriageReturn: true,
      tooLong: { action: "throw", error: (max) => new AgentisoError("BACKEND_FAILED", `QMP peer sent a line longer than ${max} bytes: not a QEMU monitor`) },
    });
  }
}
