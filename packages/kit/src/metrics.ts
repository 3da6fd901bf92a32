import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Histogram, collectDefaultMetrics, register } from "prom-client";

// One registry per process (prom-client's global one), served on GET /metrics, so every module of
// the embedded process (RPC, event bus, outbox) reports in one place. Metrics are get-or-create:
// several servers in one process (tests, embedded mode) share them.
let defaultsCollected = false;

export function metricsRegistry() {
  if (!defaultsCollected) {
    collectDefaultMetrics({ register });
    defaultsCollected = true;
  }
  return register;
}

export function rpcMetricsInterceptor(): Interceptor {
  const name = "rpc_server_duration_seconds";
  const duration =
    (register.getSingleMetric(name) as Histogram<"service" | "method" | "code"> | undefined) ??
    new Histogram({
      name,
      help: "Time to handle an RPC (unary: to the response; streams: to the first message)",
      labelNames: ["service", "method", "code"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
  return (next) => async (req) => {
    const end = duration.startTimer({ service: req.service.typeName, method: req.method.name });
    try {
      const res = await next(req);
      end({ code: "ok" });
      return res;
    } catch (err) {
      end({ code: Code[ConnectError.from(err).code] ?? "unknown" });
      throw err;
    }
  };
}
