// `agentiso daemon --foreground`: owns the engine of one state dir and serves the control API
// on $AGENTISO_HOME/agentiso.sock. Workspaces keep running when it stops; the next daemon
// adopts them (reconcile).
import { fstatSync, statSync } from "node:fs";
import type { Server } from "node:http";
import type { Config } from "../config/config.js";
import { controlSocketPath, daemonLogPath } from "../config/paths.js";
import { LogRotation } from "../core/log-rotation.js";
import type { Logger } from "../core/logger.js";
import { startReporter } from "../core/ready-pipe.js";
import { startApiServer, type RouteHandler } from "../api/api-server.js";
import type { OperationServices } from "../operations/operation.js";
import { openEngine } from "./engine-factory.js";
import { DaemonFrontDoors } from "./daemon-front-doors.js";

export interface DaemonOptions {
  /** File descriptor to say on how the start went: "ready" once the socket listens, or the error (set by the CLI's auto-start). */
  readyFd?: number;
}

// Runs until SIGTERM/SIGINT or a shutdown request; resolves with the exit code.
export async function runDaemon(config: Config, logger: Logger, options: DaemonOptions = {}): Promise<number> {
  const report = startReporter(options.readyFd);
  const logRotation = rotateDaemonLog(config, logger);
  const { stopped } = await startServing(config, logger).catch((err: unknown) => {
    report.failed(err);
    logRotation?.close();
    throw err;
  });
  report.ready();
  await stopped;
  logger.info("daemon stopped");
  logRotation?.close();
  return 0;
}

// Opens the engine and serves it; resolves once the control socket listens. `stopped` resolves
// once the server and then the engine have closed (SIGTERM/SIGINT or a shutdown request).
async function startServing(config: Config, logger: Logger): Promise<{ stopped: Promise<void> }> {
  // MCP over HTTP, /metrics and rate limits (daemon-front-doors.ts); its events feed the metrics.
  const doors = await DaemonFrontDoors.create(config, logger);
  const opened = await openEngine(config, logger, { events: doors.events });
  const { engine, report: reconciled } = opened;
  logger.info("engine opened", { home: config.home, ...reconciled });
  const services: OperationServices = doors.servicesFor(engine);
  await doors.start(engine, services).catch(async (err: unknown) => {
    await opened.close();
    throw err;
  });
  let stopping: Promise<void> | undefined;
  const ref: { server?: Server } = {};
  const stopSignal = new AbortController();
  const stop = (reason: string) =>
    (stopping ??= (async () => {
      logger.info("daemon stopping", { reason });
      stopSignal.abort(); // open terminals end, or they would hold the server open
      const server = ref.server;
      const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      // Keep-alive clients must not hold a stopping daemon open.
      server?.closeIdleConnections();
      await doors.close(); // ends MCP streams, which would hold the server open
      await closed;
      await opened.close();
    })());
  const shutdownRoute: RouteHandler = (req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/shutdown") return false;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, result: { pid: process.pid } }));
    void stop("shutdown request");
    return true;
  };
  const server = await startApiServer({
    socketPath: controlSocketPath(config),
    invoker: doors.invoker,
    extraRoutes: [shutdownRoute, ...doors.routes],
    stopping: stopSignal.signal,
    health: () => ({ pid: process.pid, home: config.home, workspaces: engine.workspaces.list().length, uptimeSeconds: Math.round(process.uptime()), ...doors.health() }),
  }).catch(async (err: unknown) => {
    await doors.close();
    await opened.close();
    throw err;
  });
  ref.server = server;
  logger.info("daemon ready", { socket: controlSocketPath(config), pid: process.pid });
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
  const stopped = new Promise<void>((resolve) => server.once("close", () => resolve())).then(() => stopping);
  return { stopped };
}

// When stderr is daemon.log (the CLI's auto-start opens it for appending), it rotates by size:
// a workspace can make the daemon log (an agent's errors), so the file must not grow without end.
function rotateDaemonLog(config: Config, logger: Logger): LogRotation | undefined {
  const path = daemonLogPath(config);
  if (!isStderr(path)) return undefined;
  const rotation = new LogRotation({ maxBytes: config.caps.daemonLogBytes, keep: config.caps.daemonLogKeep }, logger);
  rotation.guard(path);
  return rotation;
}

function isStderr(path: string): boolean {
  try {
    const [fd, file] = [fstatSync(2), statSync(path)];
    return fd.dev === file.dev && fd.ino === file.ino;
  } catch {
    return false;
  }
}
