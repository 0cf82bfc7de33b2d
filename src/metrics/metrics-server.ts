// Serves GET /metrics for Prometheus on its own small HTTP server (loopback unless the
// operator chose otherwise). Port 0 picks a free port; the daemon reports the real one in its
// health answer.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../core/logger.js";
import type { AgentisoMetrics } from "./agentiso-metrics.js";
import type { ListenAddress } from "./listen-address.js";

export interface MetricsServer extends AsyncDisposable {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

// Starts listening; resolves once the port accepts scrapes.
export async function startMetricsServer(metrics: AgentisoMetrics, listen: ListenAddress, logger: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || new URL(req.url ?? "/", "http://metrics").pathname !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics is served here\n");
      return;
    }
    metrics.text().then(
      ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
      (err: unknown) => {
        logger.error("metrics collection failed", { err });
        res.writeHead(500, { "content-type": "text/plain" }).end("metrics collection failed\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const close = () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections()));
  return { address: server.address() as AddressInfo, close, [Symbol.asyncDispose]: close };
}
