import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { Gauge, Histogram, collectDefaultMetrics, register } from "prom-client";

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

/**
 * RED per RPC: one histogram gives the rate (_count), the errors (by rpc_code, Connect's code names:
 * ok, invalid_argument, internal…) and the durations. The labels are prefixed: Prometheus puts the
 * scraped Kubernetes Service in `service`, which would rename a label of that name.
 */
export function rpcMetricsInterceptor(): Interceptor {
  const name = "rpc_server_duration_seconds";
  const duration =
    (register.getSingleMetric(name) as Histogram<"rpc_service" | "rpc_method" | "rpc_code"> | undefined) ??
    new Histogram({
      name,
      help: "Time to handle an RPC (unary: to the response; streams: to the first message)",
      labelNames: ["rpc_service", "rpc_method", "rpc_code"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
  return (next) => async (req) => {
    const end = duration.startTimer({ rpc_service: req.service.typeName, rpc_method: req.method.name });
    try {
      const res = await next(req);
      end({ rpc_code: "ok" });
      return res;
    } catch (err) {
      end({ rpc_code: codeToString(ConnectError.from(err).code) });
      throw err;
    }
  };
}

/** Get-or-create: a gauge read at each scrape, the sum of what every registered source reports. */
export function sourcesGauge(name: string, help: string): { add(source: () => number): () => void } {
  const sources = (gaugeSources.get(name) ?? gaugeSources.set(name, new Set()).get(name))!;
  if (!register.getSingleMetric(name)) {
    new Gauge({
      name,
      help,
      collect() {
        let sum = 0;
        for (const source of sources) sum += source();
        this.set(sum);
      },
    });
  }
  return {
    add(source) {
      sources.add(source);
      return () => sources.delete(source);
    },
  };
}
const gaugeSources = new Map<string, Set<() => number>>();

/** Get-or-create a histogram without labels. */
export function histogram(name: string, help: string, buckets: number[]): Histogram {
  return (register.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, buckets });
}
