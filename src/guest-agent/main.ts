// agentiso-guest: the agent inside every workspace. Bundled to dist/agentiso-guest.cjs (one
// file, no node_modules, Node >= 18). Usage:
//   agentiso-guest --listen unix:/run/agentiso.sock | --device /dev/vport0p1 | --vsock 5000
// Extra: --quiet (no info logs). Exits 0 after a `shutdown` request or SIGTERM.
import { writeFile } from "node:fs/promises";
import { startupSnapshot } from "node:v8";
import { createAgentLog } from "./agent-log.js";
import { createClockSetter, createEntropyWriter } from "./clock-and-entropy.js";
import { KernelHelper } from "./kernel-helper.js";
import { GuestAgent } from "./guest-agent.js";
import { listenDevice, listenUnix, listenVsock, type Listener } from "./listeners.js";
import { WireError } from "./wire-error.js";
import { warmMessageSchemas } from "./schema-warmup.js";

const USAGE = "usage: agentiso-guest --listen unix:/path.sock | --device /dev/vportNpM | --vsock PORT [--quiet]";

// Writes the UTS hostname: needs root (or CAP_SYS_ADMIN) and a writable /proc/sys in the
// workspace's own UTS namespace.
async function setHostname(hostname: string): Promise<void> {
  try {
    await writeFile("/proc/sys/kernel/hostname", hostname);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WireError("PERMISSION_DENIED", `cannot set hostname (${code ?? "error"}): the agent must run as root in its own UTS namespace with /proc/sys/kernel/hostname writable`);
  }
}

async function main(argv: string[]): Promise<void> {
  const flag = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const log = createAgentLog(argv.includes("--quiet"));
  // SIGUSR1 would open Node's inspector on 127.0.0.1:9229 inside the workspace, handing the
  // agent to any process there. A listener of our own replaces node's handler (node 18/20 have
  // no --disable-sigusr1); it runs before the agent listens, so before any workspace process.
  let usr1Seen = false;
  process.on("SIGUSR1", () => {
    if (!usr1Seen) log.warn("SIGUSR1 ignored: the agent opens no inspector");
    usr1Seen = true;
  });
  const listeners: Listener[] = [];
  const stop = async (reason: string) => {
    log.info("agent stopping", { reason });
    await agent.close();
    await Promise.all(listeners.map((l) => l.close()));
    process.exit(0);
  };
  const helper = new KernelHelper();
  const agent = new GuestAgent({
    log,
    setHostname,
    setClock: createClockSetter(["date"], KernelHelper.canSetClock() ? helper : undefined),
    addEntropy: createEntropyWriter("/dev/urandom", helper),
    onShutdown: () => void stop("shutdown request"),
  });
  const unix = flag("--listen");
  const device = flag("--device");
  const vsock = flag("--vsock");
  if (unix !== undefined && !unix.startsWith("unix:")) throw new Error(`--listen takes unix:/path.sock\n${USAGE}`);
  if (unix) listeners.push(await listenUnix(agent, unix.slice("unix:".length)));
  if (device) listeners.push(await listenDevice(agent, device));
  if (vsock) listeners.push(await listenVsock(agent, Number(vsock), `/run/agentiso-guest-vsock-${vsock}.sock`));
  if (listeners.length === 0) throw new Error(USAGE);
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // A bug in one handler must not take down every workspace connection.
  process.on("uncaughtException", (err) => log.warn("uncaught exception", { error: err.message, stack: err.stack }));
  process.on("unhandledRejection", (err) => log.warn("unhandled rejection", { error: String(err) }));
  log.info("agent ready", { pid: process.pid, unix, device, vsock });
}

function run(): void {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`agentiso-guest: ${err.message}\n`);
    process.exit(2);
  });
}

// Built into a startup snapshot (scripts/build.mjs) every module above is loaded already and
// main runs when the snapshot is deserialized: no parse, no schema construction at start, and
// the message parsers compiled (schema-warmup.ts).
if (startupSnapshot?.isBuildingSnapshot()) {
  warmMessageSchemas();
  startupSnapshot.setDeserializeMainFunction(run);
} else run();
