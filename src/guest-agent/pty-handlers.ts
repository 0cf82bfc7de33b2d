// pty_open: a command on a pseudo-terminal (an interactive shell by default), opened by
// `script` (pty-launch.ts). Once it runs the agent says pty_ready; then the client's data is
// the terminal's input (keystrokes: Ctrl-C is byte 3, which the pty turns into SIGINT for the
// foreground process group), `end` closes input (script then sends the terminal's EOF
// character), pty_resize changes the window size, and the terminal's output comes back as
// data under flow control. The final pty_result carries the exit code. Cancel or a lost
// connection kills script's group; the pty's hang-up then ends the session's processes.
import { FlowWindow, STREAM_WINDOW_BYTES, type RequestOf } from "../protocol/index.js";
import { execFailed, killGroup, spawnGroup, spawnOutcome } from "./process-group.js";
import { ptyLaunch } from "./pty-launch.js";
import { PtyResizer } from "./pty-resizer.js";
import type { HandlerReply, RequestContext } from "./request-context.js";

// Runs the command on a new pty until it exits; answers pty_result.
export async function handlePtyOpen(request: RequestOf<"pty_open">, ctx: RequestContext): Promise<HandlerReply<"pty_open">> {
  const started = performance.now();
  const launch = ptyLaunch(request, ctx.agent.envFor(request.env));
  const child = spawnGroup({ argv: launch.argv, cwd: request.cwd }, launch.env);
  const hangUp = () => {
    killGroup(child.pid);
    // paused (flow-controlled) pipes must drain or "close" never comes
    child.stdout.resume();
    child.stderr.resume();
  };
  ctx.signal.addEventListener("abort", hangUp, { once: true });
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("close", (code, signal) => resolve([code, signal])));
  try {
    const failure = await spawnOutcome(child);
    if (failure) throw execFailed(failure, { argv: launch.argv, cwd: request.cwd });
    const resizer = new PtyResizer(child.pid!, launch.stty, ctx.log);
    relayTerminal(child, ctx, resizer);
    ctx.send({ id: ctx.id, type: "pty_ready" });
    const [exitCode, signal] = await closed;
    await resizer.settled();
    return { id: ctx.id, type: "pty_result", exitCode, signal, durationMs: Math.round((performance.now() - started) * 1000) / 1000 };
  } finally {
    ctx.signal.removeEventListener("abort", hangUp);
  }
}

// Output (script's stdout and stderr, both the terminal) → data, paused while the client's
// window is full; the client's data → script's stdin, acked once written.
function relayTerminal(child: ReturnType<typeof spawnGroup>, ctx: RequestContext, resizer: PtyResizer): void {
  const window = new FlowWindow(STREAM_WINDOW_BYTES);
  const pump = (chunk: Buffer) => {
    ctx.sendData(ctx.id, chunk);
    if (window.sent(chunk.length)) {
      child.stdout.pause();
      child.stderr.pause();
    }
  };
  child.stdout.on("data", pump);
  child.stderr.on("data", pump);
  child.stdin.on("error", () => {}); // the session may end while input is on its way
  ctx.onStream({
    onData: (data) => {
      const ack = () => ctx.send({ id: ctx.id, type: "ack", bytes: data.length });
      // input after `end` is dropped, but acked: the client's window must not fill with it
      if (child.stdin.writable) child.stdin.write(data, ack);
      else ack();
    },
    onEnd: () => child.stdin.end(),
    onAck: (bytes) => {
      window.acked(bytes);
      if (!window.full) {
        child.stdout.resume();
        child.stderr.resume();
      }
    },
    onResize: (rows, cols) => resizer.resize(rows, cols),
  });
}
