import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type Sampler } from "@opentelemetry/sdk-trace";
import { createRequire } from "node:module";
import type { TelemetrySettings } from "./config.js";
import { setTracingEnabled } from "./tracing.js";

/** The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name, as the specification defines them. */
export function sampler(settings: TelemetrySettings["sampler"]): Sampler {
  switch (settings.name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(settings.ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.ratio) });
  }
}

export interface TracingOptions {
  serviceName: string;
  endpoint: string;
  sampler: TelemetrySettings["sampler"];
}

/** Registers the global tracer provider, W3C propagation and the pg instrumentation. */
export function startTracing(options: TracingOptions): { sampler: string; shutdown: () => Promise<void> } {
  const chosen = sampler(options.sampler);
  const resource = resourceFromAttributes({ "service.name": options.serviceName }).merge(detectResources({ detectors: [envDetector] }));
  const exporter = new OTLPTraceExporter({ url: options.endpoint });
  const provider = new TracerProvider({ resource, sampler: chosen, spanProcessors: [new BatchSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  // Statements outside any traced work (LISTEN, the relay's idle polls) would only be noise.
  const unregister = registerInstrumentations({ instrumentations: [new PgInstrumentation({ requireParentSpan: true })], tracerProvider: provider });
  // The services load pg through ESM imports, which the require hook does not see; requiring it
  // here patches its Client prototype, which those imports share. MikroORM's driver pins a pg of its
  // own (a copy beside it when the workspace's differs): that one is patched too.
  for (const from of [import.meta.url, resolvedOrUndefined("@mikro-orm/postgresql")]) {
    if (from) createRequire(from)("pg");
  }
  setTracingEnabled(true);
  return {
    sampler: chosen.toString(),
    shutdown: async () => {
      setTracingEnabled(false);
      unregister();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

function resolvedOrUndefined(specifier: string): string | undefined {
  try {
    return import.meta.resolve(specifier);
  } catch {
    return undefined;
  }
}
