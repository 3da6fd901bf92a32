import type { Logger } from "./logger.js";

/**
 * Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces
 * (OTLP over HTTP). None set, OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none: tracing is off.
 */
export function tracesEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === "true" || env.OTEL_TRACES_EXPORTER?.toLowerCase() === "none") return undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
}

let stop: (() => Promise<void>) | undefined;

/**
 * Starts the OpenTelemetry SDK for this process when an exporter endpoint is configured (the chart
 * sets it); `serviceName` unless OTEL_SERVICE_NAME names it. The SDK is loaded only then, so a
 * process without tracing pays nothing for it.
 */
export async function startTelemetry(serviceName: string, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const endpoint = tracesEndpoint(env);
  if (!endpoint || stop) return;
  const { startTracing } = await import("./telemetry-sdk.js");
  const started = startTracing({ serviceName, endpoint, env });
  stop = started.shutdown;
  logger.info({ endpoint, sampler: started.sampler }, "tracing on");
}

/** Sends the spans still buffered and stops tracing (on shutdown). */
export async function stopTelemetry(): Promise<void> {
  const shutdown = stop;
  stop = undefined;
  await shutdown?.();
}
