// RPC spans across a real HTTP/2 hop: the client's span is the server span's parent, the handler
// sees the server span as the traceparent to record, log lines inside carry its ids; the sampler and
// endpoint settings read the standard OTEL_* variables.
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { pino } from "pino";
import { Writable } from "node:stream";
import { contextFromHeaders, createLogger, currentTraceparent, defineConfig, rpcClientTracing, startServer, telemetrySettings, withSpan, type Env } from "../src/index.js";
import { sampler } from "../src/telemetry-sdk.js";
import { setTracingEnabled, traceLogFields } from "../src/tracing.js";

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  setTracingEnabled(true);
});
afterAll(async () => {
  setTracingEnabled(false);
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

/** A server whose ParseRecurrence runs `onParse` with the call's request headers. */
function recurrenceServer(onParse: (requestHeader: Headers) => void) {
  return startServer(
    {
      logger: createLogger("tracing-test"),
      services: [RecurrenceService],
      routes: (router) =>
        router.service(RecurrenceService, {
          parseRecurrence: (_req, ctx) => {
            onParse(ctx.requestHeader);
            return { rrule: "FREQ=DAILY" } as never;
          },
          previewOccurrences: () => ({}) as never,
        }),
    },
    0,
    "127.0.0.1",
  );
}

/** A logger whose lines carry the active span's ids, and the lines it wrote, parsed. */
function traceLogged() {
  const lines: Record<string, string>[] = [];
  const sink = new Writable({
    write: (chunk, _enc, done) => {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, log: pino({ mixin: traceLogFields }, sink) };
}

test("a call's client span is the parent of the server's; the handler and its log lines see the server span", async () => {
  const { lines, log } = traceLogged();
  let recorded = "";
  const server = await recurrenceServer((requestHeader) => {
    recorded = currentTraceparent(requestHeader);
    log.info("parsing");
  });
  try {
    const client = createClient(RecurrenceService, createGrpcTransport({ baseUrl: server.url, interceptors: [rpcClientTracing()] }));
    // A traceparent the caller already had is replaced by the client span's (the gateway passes the browser's on).
    await withSpan("caller", {}, () => client.parseRecurrence({ text: "every day" }, { headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } }));
  } finally {
    await server.drain();
  }
  const spans = exporter.getFinishedSpans();
  const byKind = (kind: SpanKind) => spans.find((s) => s.kind === kind && s.name === "taskmesh.recurrence.v1.RecurrenceService/ParseRecurrence");
  const caller = spans.find((s) => s.name === "caller")!;
  const clientSpan = byKind(SpanKind.CLIENT)!;
  const serverSpan = byKind(SpanKind.SERVER)!;
  assert.ok(caller && clientSpan && serverSpan, `spans: ${spans.map((s) => s.name).join(", ")}`);
  const traceId = caller.spanContext().traceId;
  assert.equal(clientSpan.spanContext().traceId, traceId);
  assert.equal(serverSpan.spanContext().traceId, traceId);
  assert.equal(clientSpan.parentSpanContext?.spanId, caller.spanContext().spanId);
  assert.equal(serverSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId);
  assert.equal(serverSpan.attributes["rpc.method"], "ParseRecurrence");
  assert.equal(recorded, `00-${traceId}-${serverSpan.spanContext().spanId}-01`);
  const line = lines.find((l) => l.msg === "parsing")!;
  assert.equal(line.trace_id, traceId);
  assert.equal(line.span_id, serverSpan.spanContext().spanId);
});

test("an unsampled call leaves no span active for instrumentations, yet its context travels on unsampled", async () => {
  const { lines, log } = traceLogged();
  let recorded = "";
  let activeSpan: unknown = "not called";
  const server = await recurrenceServer((requestHeader) => {
    // What pg's instrumentation (requireParentSpan) looks at before wrapping a statement.
    activeSpan = trace.getSpan(context.active());
    recorded = currentTraceparent(requestHeader);
    log.info("parsing unsampled");
  });
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  exporter.reset();
  try {
    const client = createClient(RecurrenceService, createGrpcTransport({ baseUrl: server.url, interceptors: [rpcClientTracing()] }));
    await withSpan("unsampled caller", { parent: contextFromHeaders({ traceparent: `00-${traceId}-00f067aa0ba902b7-00` }) }, async () => {
      assert.equal(trace.getSpan(context.active()), undefined);
      await client.parseRecurrence({ text: "every day" });
    });
  } finally {
    await server.drain();
  }
  assert.equal(activeSpan, undefined);
  assert.match(recorded, new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
  assert.equal(lines.find((l) => l.msg === "parsing unsampled")?.trace_id, traceId);
  assert.deepEqual(
    exporter.getFinishedSpans().map((s) => s.name),
    [],
  );
});

test("a call carrying two traceparents (a Dapr sidecar appends its hop's) continues the last one", async () => {
  let recorded = "";
  const server = await recurrenceServer((requestHeader) => {
    recorded = currentTraceparent(requestHeader);
  });
  try {
    const client = createClient(RecurrenceService, createGrpcTransport({ baseUrl: server.url }));
    const headers = new Headers();
    headers.append("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    headers.append("traceparent", "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01");
    await client.parseRecurrence({ text: "every day" }, { headers });
  } finally {
    await server.drain();
  }
  const serverSpan = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === "0af7651916cd43dd8448eb211c80319c");
  assert.ok(serverSpan, "the server span");
  assert.equal(serverSpan.parentSpanContext?.spanId, "00f067aa0ba902b7");
  assert.equal(recorded, `00-0af7651916cd43dd8448eb211c80319c-${serverSpan.spanContext().spanId}-01`);
});

test("outside a span a log line has no trace fields, and the traceparent is the caller's", () => {
  assert.deepEqual(traceLogFields(), {});
  assert.equal(currentTraceparent(new Headers({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" })), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
});

test("the exporter endpoint and the sampler come from the standard variables", () => {
  const telemetry = defineConfig("tracing-test", { telemetry: telemetrySettings });
  const tracesEndpoint = (env: Env) => telemetry.parse(env).telemetry.tracesEndpoint;
  const samplerOf = (env: Env) => sampler(telemetry.parse(env).telemetry.sampler);
  assert.equal(tracesEndpoint({}), undefined);
  assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }), "http://collector:4318/v1/traces");
  assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b/traces" }), "http://b/traces");
  assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_SDK_DISABLED: "true" }), undefined);
  assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_TRACES_EXPORTER: "none" }), undefined);

  assert.match(samplerOf({}).toString(), /ParentBased\{root=AlwaysOnSampler/);
  assert.match(samplerOf({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.01" }).toString(), /root=TraceIdRatioBased\{0\.01\}/);
  assert.match(samplerOf({ OTEL_TRACES_SAMPLER: "traceidratio" }).toString(), /^TraceIdRatioBased\{1\}/);
  assert.equal(samplerOf({ OTEL_TRACES_SAMPLER: "always_off" }).toString(), "AlwaysOffSampler");
  assert.throws(() => samplerOf({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "5%" }), /OTEL_TRACES_SAMPLER_ARG: expected a ratio from 0 up to 1 \(fractions allowed\), got "5%"/);
  assert.throws(() => samplerOf({ OTEL_TRACES_SAMPLER: "jaeger_remote" }), /OTEL_TRACES_SAMPLER: expected one of `parentbased_always_on`, .*, got "jaeger_remote"/);
});
