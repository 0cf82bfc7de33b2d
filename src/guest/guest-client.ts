// The host side of the agent protocol: one client per workspace, one method per agent
// operation. Connection, hello and reconnects live in GuestLink; exec, transfers and
// tunnels in their own files; every reply is typed by the protocol's REQUEST_REPLIES.
import type { Duplex } from "node:stream";
import type { DirEntry, FileStat, GuestTrust, HelloReply, JobInfo } from "../protocol/index.js";
import type { CallOptions, Command, ConnectionHandler, ExecOptions, ExecResult, ExecStream, GuestPortForward, OutputStream, ReadResult } from "./client-types.js";
import { downloadFile, uploadFile } from "./file-transfer.js";
import { runExec, runExecStream, runJobFollow } from "./guest-exec.js";
import { GuestLink, type GuestLinkOptions } from "./guest-link.js";
import { listenGuestPort } from "./port-forward.js";
import { openTunnel } from "./tunnel-socket.js";
import { openPty, type PtySession, type PtySpec } from "./pty-session.js";

export type GuestClientOptions = GuestLinkOptions;

export interface ConfigureSettings {
  hostname?: string;
  /** The guest's new wall clock, ms since the epoch (e.g. Date.now() right after a restore). */
  clockEpochMs?: number;
  /** At most MAX_ENTROPY_BYTES random bytes mixed into the guest kernel's pool. */
  entropy?: Uint8Array;
  /** CA certificates and proxies the operator wants the workspace to use. */
  trust?: GuestTrust;
}

/** One per workspace; safe to share between concurrent callers. */
export class GuestClient implements AsyncDisposable {
  private readonly link: GuestLink;

  constructor(options: GuestClientOptions) {
    this.link = new GuestLink(options);
  }

  /** What the agent said in its hello (after the first successful call). */
  get agentInfo(): HelloReply | undefined {
    return this.link.agentInfo;
  }

  /** Work requests in flight and when one last started or ended (ms since the epoch). */
  activity(): { inFlight: number; lastActivityMs: number } {
    return this.link.activity;
  }

  // Connects (or reuses the live connection) and completes the hello handshake.
  async connect(options: CallOptions = {}): Promise<HelloReply> {
    await this.link.connection(options.signal);
    return this.link.agentInfo!;
  }

  async ping(options: CallOptions = {}): Promise<void> {
    await this.link.request({ type: "ping" }, "ping", options);
  }

  // Runs a command to completion; a non-zero exit is a result, not an error.
  async exec(command: ExecOptions, options: CallOptions = {}): Promise<ExecResult> {
    return runExec(this.link, command, options);
  }

  // Runs a command and streams its output chunks as they come (bounded by flow control);
  // breaking out of the iteration cancels the command.
  execStream(command: ExecOptions, options: CallOptions = {}): ExecStream {
    return runExecStream(this.link, command, options);
  }

  // A command on a terminal in the guest (the login shell when spec names none); resolves once it runs.
  openPty(spec: PtySpec, options: CallOptions = {}): Promise<PtySession> {
    return openPty(this.link, spec, options);
  }

  /** Starts a background job; maxOutputBytes sizes its output rings, timeoutMs kills it after that long. */
  async startJob(command: Command & { maxOutputBytes?: number; timeoutMs?: number }, options: CallOptions = {}): Promise<JobInfo> {
    return (await this.link.request({ type: "job_start", ...command }, "job_start", options)).job;
  }

  // Streams a job's output (what its rings still hold, then what comes) until it ends, then its info.
  followJob(jobId: string, options: CallOptions = {}): OutputStream<JobInfo> {
    return runJobFollow(this.link, jobId, options);
  }

  /** The job's state and the tail of its output. */
  async pollJob(jobId: string, options: CallOptions = {}): Promise<JobInfo> {
    return (await this.link.request({ type: "job_poll", jobId }, "job_poll", options)).job;
  }

  async killJob(jobId: string, signal: NodeJS.Signals = "SIGTERM", options: CallOptions = {}): Promise<JobInfo> {
    return (await this.link.request({ type: "job_kill", jobId, signal: signal as "SIGTERM" }, "job_kill", options)).job;
  }

  async listJobs(options: CallOptions = {}): Promise<JobInfo[]> {
    return (await this.link.request({ type: "job_list" }, "job_list", options)).jobs;
  }

  async readFile(path: string, range: { offset?: number; limit?: number } = {}, options: CallOptions = {}): Promise<ReadResult> {
    const reply = await this.link.request({ type: "file_read", path, ...range }, `read ${path}`, options);
    return { data: Buffer.from(reply.data, "base64"), sizeBytes: reply.sizeBytes, eof: reply.eof };
  }

  async writeFile(path: string, data: string | Buffer, how: { mode?: number; append?: boolean; createDirs?: boolean } = {}, options: CallOptions = {}): Promise<number> {
    const body = { type: "file_write" as const, path, data: Buffer.from(data).toString("base64"), ...how };
    return (await this.link.request(body, `write ${path}`, options)).bytes ?? 0;
  }

  /** Replaces oldText (which must occur exactly once: NOT_FOUND / CONFLICT otherwise). */
  async editFile(path: string, oldText: string, newText: string, options: CallOptions = {}): Promise<void> {
    await this.link.request({ type: "file_edit", path, oldText, newText }, `edit ${path}`, options);
  }

  async listDir(path: string, options: CallOptions = {}): Promise<DirEntry[]> {
    return (await this.link.request({ type: "file_list", path }, `list ${path}`, options)).entries;
  }

  async stat(path: string, options: CallOptions = {}): Promise<FileStat> {
    return (await this.link.request({ type: "file_stat", path }, `stat ${path}`, options)).stat;
  }

  async mkdir(path: string, how: { mode?: number; recursive?: boolean } = {}, options: CallOptions = {}): Promise<void> {
    await this.link.request({ type: "file_mkdir", path, ...how }, `mkdir ${path}`, options);
  }

  async remove(path: string, how: { recursive?: boolean } = {}, options: CallOptions = {}): Promise<void> {
    await this.link.request({ type: "file_remove", path, ...how }, `remove ${path}`, options);
  }

  /** Renames a file, directory or symlink; CONFLICT for an existing `to` unless overwrite. */
  async move(from: string, to: string, how: { overwrite?: boolean } = {}, options: CallOptions = {}): Promise<void> {
    await this.link.request({ type: "file_move", from, to, ...how }, `move ${from} to ${to}`, options);
  }

  // Streams bytes into a guest file (visible only once complete); returns bytes written.
  async upload(path: string, source: Buffer | AsyncIterable<Buffer | string>, how: { mode?: number; maxBytes?: number } = {}, options: CallOptions = {}): Promise<number> {
    return uploadFile(this.link, path, source, how, options);
  }

  // Streams a guest file (or a byte range of it) in chunks; breaking out cancels it.
  download(path: string, range: { offset?: number; limit?: number } = {}, options: CallOptions = {}): AsyncGenerator<Buffer> {
    return downloadFile(this.link, path, range, options);
  }

  /** Environment for later commands, held in the agent's memory only (API keys). */
  async setEnv(vars: Record<string, string>, options: CallOptions = {}): Promise<void> {
    await this.link.request({ type: "set_env", vars }, "set_env", options);
  }

  async unsetEnv(names: string[], options: CallOptions = {}): Promise<void> {
    await this.link.request({ type: "unset_env", names }, "unset_env", options);
  }

  // Workspace settings; after a memory-snapshot restore pass clockEpochMs and fresh entropy.
  async configure(settings: ConfigureSettings, options: CallOptions = {}): Promise<void> {
    const { entropy, ...rest } = settings;
    const message = { type: "configure" as const, ...rest, ...(entropy === undefined ? {} : { entropy: Buffer.from(entropy).toString("base64") }) };
    await this.link.request(message, "configure", options);
  }

  // A TCP connection to host:port inside the guest, as a Duplex (host → guest tunnel).
  async openTunnel(port: number, how: { host?: string } = {}, options: CallOptions = {}): Promise<Duplex> {
    const connection = await this.link.connection(options.signal);
    return openTunnel(connection, port, how, this.link.deadline(options));
  }

  // Listens on 127.0.0.1:guestPort in the guest; each connection there reaches onConnection.
  async forwardGuestPort(guestPort: number, onConnection: ConnectionHandler, options: CallOptions = {}): Promise<GuestPortForward> {
    const connection = await this.link.connection(options.signal);
    return listenGuestPort(connection, guestPort, onConnection, this.link.deadline(options));
  }

  /** Asks the agent to exit (ending the workspace when it is PID 1). */
  async shutdown(options: CallOptions = {}): Promise<void> {
    await this.link.request({ type: "shutdown" }, "shutdown", options);
  }

  async close(): Promise<void> {
    await this.link.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
