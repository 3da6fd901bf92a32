import type { TelemetrySettings } from "./config.js";
import type { Logger } from "./logger.js";

let stop: (() => Promise<void>) | undefined;

/**
 * Starts the OpenTelemetry SDK for this process when an exporter endpoint is configured (the chart
 * sets it); `serviceName` unless OTEL_SERVICE_NAME names it. The SDK is loaded only then, so a
 * process without tracing pays nothing for it.
 */
export async function startTelemetry(serviceName: string, logger: Logger, settings: TelemetrySettings): Promise<void> {
  const endpoint = settings.tracesEndpoint;
  if (!endpoint || stop) return;
  const { startTracing } = await import("./telemetry-sdk.js");
  const started = startTracing({ serviceName, endpoint, sampler: settings.sampler });
  stop = started.shutdown;
  logger.info({ endpoint, sampler: started.sampler }, "tracing on");
}

/** Sends the spans still buffered and stops tracing (on shutdown). */
export async function stopTelemetry(): Promise<void> {
  const shutdown = stop;
  stop = undefined;
  await shutdown?.();
}
