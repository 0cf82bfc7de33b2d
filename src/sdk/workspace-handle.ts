// One workspace as an object: what a program does with it, each method one operation of the
// daemon (typed by its contract), with the workspace filled in.
import type { InputOf, OutputOf } from "../contract/contract.js";
import type { Contracts } from "../contract/registry.js";
import type { PortForward, Workspace } from "../contract/result-schemas.js";
import type { OperationMethods } from "./operation-methods.js";
import { outputBytesOf } from "../contract/output-event.js";

type Without<C extends keyof Contracts, K extends string> = Omit<InputOf<Contracts[C]>, "workspace" | K>;

type OutputHandler = (chunk: Buffer) => void | Promise<void>;
export type ExecOptions = Without<"exec", "command" | "argv"> & { signal?: AbortSignal; onStdout?: OutputHandler; onStderr?: OutputHandler };

export class WorkspaceHandle {
  constructor(
    private readonly operations: OperationMethods,
    /** What the daemon said of it when this handle was made (see refresh()). */
    public info: Workspace,
  ) {}

  get id(): string {
    return this.info.id;
  }

  get name(): string {
    return this.info.name;
  }

  /**
   * Runs a shell line (a string) or a program with arguments (an array) and waits for it; a
   * non-zero exit is a result. `timeoutMs` is the command's (it is killed past it). With
   * onStdout/onStderr each chunk of output is handed over as the command prints it (awaited:
   * a slow handler slows the command, not your memory).
   */
  exec(command: string | string[], options: ExecOptions = {}): Promise<OutputOf<Contracts["exec"]>> {
    const { signal, onStdout, onStderr, ...rest } = options;
    const input = { ...rest, workspace: this.id, ...(typeof command === "string" ? { command } : { argv: command }) };
    const streamed = onStdout || onStderr;
    const onProgress = (event: unknown) => {
      const output = outputBytesOf(event);
      if (output?.stream === "stdout") return onStdout?.(output.bytes);
      if (output?.stream === "stderr") return onStderr?.(output.bytes);
    };
    return this.operations.exec(input, { ...(signal && { signal }), ...(streamed && { onProgress }) });
  }

  readFile(path: string, options: Without<"fileRead", "path"> = {}): Promise<OutputOf<Contracts["fileRead"]>> {
    return this.operations.fileRead({ ...options, workspace: this.id, path });
  }

  writeFile(path: string, content: string, options: Without<"fileWrite", "path" | "content"> = {}): Promise<OutputOf<Contracts["fileWrite"]>> {
    return this.operations.fileWrite({ ...options, workspace: this.id, path, content });
  }

  /** Takes a snapshot named `name`; forks start from it. */
  async snapshot(name: string): Promise<OutputOf<Contracts["snapshot"]>> {
    return this.operations.snapshot({ workspace: this.id, action: "create", name });
  }

  /** Forks `count` (default 1) new workspaces from one of its snapshots, copy-on-write. */
  async fork(options: Without<"workspaceFork", never>): Promise<WorkspaceHandle[]> {
    const forks = await this.operations.workspaceFork({ ...options, workspace: this.id });
    return forks.map((info) => new WorkspaceHandle(this.operations, info));
  }

  /** Freezes it (no CPU, memory kept) until resume(). */
  async pause(): Promise<Workspace> {
    return (this.info = await this.operations.workspacePause({ workspace: this.id }));
  }

  async resume(): Promise<Workspace> {
    return (this.info = await this.operations.workspaceResume({ workspace: this.id }));
  }

  /** Opens one of its ports on the host (default 127.0.0.1, a free host port); the answer says where. */
  async openPort(guestPort: number, options: Without<"portForward", "action" | "guestPort"> = {}): Promise<PortForward> {
    // action "add" answers the one forward (list and remove answer other shapes of the same contract)
    return (await this.operations.portForward({ ...options, workspace: this.id, action: "add", guestPort })) as PortForward;
  }

  async refresh(): Promise<Workspace> {
    const { snapshots: _snapshots, ...info } = await this.operations.workspaceInfo({ workspace: this.id });
    this.info = info;
    return info;
  }

  destroy(): Promise<OutputOf<Contracts["workspaceDestroy"]>> {
    return this.operations.workspaceDestroy({ workspace: this.id });
  }

  /** So `await using ws = await agentiso.workspaces.create()` destroys it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}
