// Protocol version spoken by this build. `hello` carries it first on every connection;
// the agent refuses any other version with VERSION_MISMATCH and closes the connection.
export const PROTOCOL_VERSION = 1;

/** Chunk size for streamed file data; base64 keeps the frame far under MAX_FRAME_BYTES. */
export const CHUNK_BYTES = 1024 * 1024;

/** Unacknowledged data bytes a sender may have in flight on one stream (flow control). */
export const STREAM_WINDOW_BYTES = 8 * 1024 * 1024;

/** Largest `file_read` limit and `file_write` payload (base64 keeps it under the frame limit). */
export const MAX_INLINE_BYTES = 8 * 1024 * 1024;

/** Largest buffered exec output per stream (JSON escaping may grow text up to 6x). */
export const MAX_EXEC_INLINE_BYTES = 1024 * 1024;
