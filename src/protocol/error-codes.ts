// The codes a `type:"error"` message may carry. Clients branch on the code, never on text.

export const WIRE_ERROR_CODES = [
  "FRAME_ERROR", // bad length prefix or frame over MAX_FRAME_BYTES: the agent closes the connection
  "INVALID_REQUEST", // invalid JSON, missing id, fields that fail the schema, no hello yet
  "UNKNOWN_TYPE", // a `type` this agent does not implement
  "DUPLICATE_ID", // the id is still in use by an unfinished request on this connection
  "VERSION_MISMATCH", // hello with a protocol version the agent does not speak
  "NOT_FOUND", // no such file, directory, job, or edit target text
  "ALREADY_EXISTS", // the path exists where it must not
  "CONFLICT", // edit target text occurs more than once; directory not empty
  "TOO_LARGE", // a size limit was exceeded (read limit, upload size, output limit)
  "PERMISSION_DENIED", // the guest OS refused (EACCES/EPERM), e.g. sethostname without privilege
  "TIMEOUT", // the agent gave up waiting (a tunnel connect)
  "CANCELLED", // the client sent `cancel` for this id
  "EXEC_FAILED", // the command could not be started (ENOENT, EACCES, bad cwd)
  "UNSUPPORTED", // the platform cannot do this
  "INTERNAL", // a bug in the agent
] as const;

export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

/** Error id used when the failure belongs to no request (bad frame, invalid JSON, missing id). */
export const CONNECTION_ERROR_ID = 0;
