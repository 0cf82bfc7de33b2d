// The byte side of a memory snapshot: QEMU migrates to (or from) a unix socket that WE hold,
// and we copy the stream to (or from) the file. No shell is involved (so no quoting of the
// path), we know the exact byte count, and the file is complete when our copy ends — with
// `exec:cat > f` QEMU SIGTERMs `cat` right after closing the pipe, racing its last write.
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

// Big reads cut the per-chunk overhead of streaming hundreds of MiB into QEMU.
const STREAM_CHUNK_BYTES = 1024 * 1024;

/** A private directory holding the one socket of one migration; dispose removes it. */
export interface MigrationSocket extends AsyncDisposable {
  path: string;
  uri: string;
}

/** The uid:gid QEMU runs as (-runas): the socket's directory, and the socket we listen on, are handed to it. */
export interface SocketOwner {
  uid: number;
  gid: number;
}

// Makes a short, unique socket path (unix socket paths are limited to 107 bytes), in a 0700
// directory owned by QEMU's uid when it dropped root (it creates the socket there on restore).
export async function migrationSocket(owner?: SocketOwner): Promise<MigrationSocket> {
  const dir = await mkdtemp(join(tmpdir(), "agentiso-migrate-"));
  if (owner) await chown(dir, owner.uid, owner.gid);
  const path = join(dir, "stream.sock");
  return { path, uri: `unix:${path}`, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

export interface FileSink {
  /** Resolves with the bytes written once QEMU closed the stream and the file is flushed. */
  done: Promise<number>;
  close(): void;
}

// Listens on socketPath (connectable by `owner`, QEMU's uid); the first connection's bytes are written to filePath.
export async function listenToFile(socketPath: string, filePath: string, signal: AbortSignal, owner?: SocketOwner): Promise<FileSink> {
  const server = createServer();
  server.listen(socketPath);
  await once(server, "listening", { signal });
  if (owner) await chown(socketPath, owner.uid, owner.gid);
  const closing = new AbortController();
  const done = receiveOne(server, filePath, AbortSignal.any([signal, closing.signal]));
  done.catch(() => {}); // the caller awaits it only once the migration has completed
  return { done, close: () => (closing.abort(), void server.close()) };
}

async function receiveOne(server: Server, filePath: string, signal: AbortSignal): Promise<number> {
  const [socket] = (await once(server, "connection", { signal })) as [Socket];
  server.close(); // one stream per migration
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(socket, counter, createWriteStream(filePath, { mode: 0o600, highWaterMark: STREAM_CHUNK_BYTES }), { signal });
  return bytes;
}

// Streams filePath into the socket QEMU listens on after `migrate-incoming`. QEMU stops
// reading at its end-of-state marker and closes, often before the trailing VM description
// is sent, so a failure here means little: the MIGRATION event says whether the load worked.
export async function streamFileTo(socketPath: string, filePath: string, signal: AbortSignal): Promise<void> {
  const socket = connect(socketPath);
  // We only write. QEMU closing with our bytes unread makes the kernel reset the socket, which
  // can surface as a read error after the copy ended and pipeline stopped listening: unheard,
  // it would crash the daemon. It means nothing here (see above), so it is swallowed.
  socket.on("error", () => {});
  try {
    await once(socket, "connect", { signal });
    await pipeline(createReadStream(filePath, { highWaterMark: STREAM_CHUNK_BYTES }), socket, { signal });
  } finally {
    socket.destroy();
  }
}
