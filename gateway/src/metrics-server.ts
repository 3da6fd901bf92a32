import http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { metricsRegistry } from "@taskmesh/kit";

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * GET /metrics on a port of its own, for a process whose main port is public: Prometheus scrapes
 * this one, which the Ingress and the Internet never reach.
 */
export async function startMetricsServer(port: number, host = "0.0.0.0"): Promise<MetricsServer> {
  const registry = metricsRegistry();
  const server = http.createServer((req, res) => {
    if ((req.url ?? "/").split("?")[0] !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
      (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`),
    );
  });
  server.listen(port, host);
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
