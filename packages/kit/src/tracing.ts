import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";

// Instrumentation talks to the OpenTelemetry API only: without a started SDK (telemetry.ts) every
// span is a no-op. The flag lets the hot paths skip even that when tracing is off.
let enabled = false;

/** Set by startTelemetry once a tracer provider is registered. */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

export function tracingEnabled(): boolean {
  return enabled;
}

const tracer = () => trace.getTracer("taskmesh");

// An unsampled call's trace context is kept under this key instead of as the active span. The
// instrumentations then see no parent span and skip their work (pg's, with requireParentSpan, wraps
// every statement otherwise: at 1 % sampling that was most of tracing's cost), while the context
// still travels on with the sampled flag off, so the services downstream keep the decision and log
// lines keep their trace id.
const UNSAMPLED = createContextKey("taskmesh unsampled span context");

/** `parent` with `span` active: as the span itself when it records, else under UNSAMPLED. */
function withActive(parent: Context, span: Span): Context {
  if (span.isRecording()) return trace.setSpan(parent, span).deleteValue(UNSAMPLED);
  return trace.deleteSpan(parent).setValue(UNSAMPLED, span.spanContext());
}

/** `ctx` with an unsampled call's span context restored: the parent of new spans, what propagates. */
function traceContext(ctx: Context = context.active()): Context {
  const unsampled = ctx.getValue(UNSAMPLED) as SpanContext | undefined;
  return unsampled && !trace.getSpan(ctx) ? trace.setSpanContext(ctx, unsampled) : ctx;
}

const recordGetter: TextMapGetter<Record<string, string>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};
const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
const headersGetter: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  // Dapr's sidecar appends its hop's traceparent to the one the caller sent and passes both on
  // (joined by a comma here): the last is the nearest parent, and the pair would parse as none.
  get: (carrier, key) => (key === "traceparent" ? carrier.get(key)?.split(",").at(-1)?.trim() : carrier.get(key)) ?? undefined,
};
const headersSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** The trace context carried in a record's headers (an event's `traceparent`), or none. */
export function contextFromHeaders(headers: Record<string, string>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, recordGetter);
}

/** A link to the span whose context a record's headers carry, or none: a batch's span links each record it handles. */
export function linkFromHeaders(headers: Record<string, string>): Link | undefined {
  const spanContext = trace.getSpanContext(contextFromHeaders(headers));
  return spanContext ? { context: spanContext } : undefined;
}

/** Writes `ctx`'s trace context (traceparent, tracestate) into `headers`. */
export function injectHeaders(headers: Record<string, string>, ctx: Context = context.active()): void {
  propagation.inject(traceContext(ctx), headers, recordSetter);
}

/**
 * The W3C traceparent to record with a change (events carry it): the active span's when tracing
 * (sampled or not, so the consumers keep the decision), else the one the caller sent, so a trace
 * started upstream still links up.
 */
export function currentTraceparent(requestHeader?: Headers): string {
  if (enabled) {
    const carrier: Record<string, string> = {};
    injectHeaders(carrier);
    if (carrier.traceparent) return carrier.traceparent;
  }
  return requestHeader?.get("traceparent") ?? "";
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; the active context when omitted. */
  parent?: Context;
  links?: Link[];
}

/**
 * Runs `fn` inside a new active span that ends when it settles; a thrown error marks the span
 * failed and is rethrown. With tracing off, just runs `fn`.
 */
export async function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!enabled) return fn(undefined);
  const { parent = context.active(), ...spanOptions } = options;
  const parentContext = traceContext(parent);
  const span = tracer().startSpan(name, spanOptions, parentContext);
  return context.with(withActive(parentContext, span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Starts a span without making it active (for spans ended by someone else, e.g. after a batch). */
export function startSpan(name: string, options: SpanOptions): Span | undefined {
  if (!enabled) return undefined;
  const { parent = context.active(), ...spanOptions } = options;
  return tracer().startSpan(name, spanOptions, traceContext(parent));
}

export function failSpan(span: Span | undefined, err: unknown): void {
  if (!span) return;
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

function rpcAttributes(service: string, method: string): Attributes {
  return { "rpc.system": "connect_rpc", "rpc.service": service, "rpc.method": method };
}

async function tracedCall<T>(span: Span, call: () => Promise<T>): Promise<T> {
  try {
    const res = await call();
    span.setAttribute("rpc.connect_rpc.error_code", "ok");
    return res;
  } catch (err) {
    const code = ConnectError.from(err).code;
    span.setAttribute("rpc.connect_rpc.error_code", Code[code] ?? "unknown");
    // A client's mistake (bad input, not found, conflict) is not a failure of the server.
    if (code === Code.Internal || code === Code.Unknown || code === Code.Unavailable || code === Code.DataLoss || code === Code.DeadlineExceeded) failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** A SERVER span per call, child of the caller's traceparent (HTTP/2 and Connect headers alike). */
export function rpcServerTracing(): Interceptor {
  return (next) => (req) => {
    if (!enabled) return next(req);
    const parent = propagation.extract(ROOT_CONTEXT, req.header, headersGetter);
    const name = `${req.service.typeName}/${req.method.name}`;
    const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes: rpcAttributes(req.service.typeName, req.method.name) }, parent);
    return context.with(withActive(parent, span), () => tracedCall(span, () => next(req)));
  };
}

/** A CLIENT span per outgoing call; its context replaces any traceparent already on the request. */
export function rpcClientTracing(): Interceptor {
  return (next) => (req) => {
    if (!enabled) return next(req);
    const name = `${req.service.typeName}/${req.method.name}`;
    const parent = traceContext();
    const span = tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes: rpcAttributes(req.service.typeName, req.method.name) }, parent);
    propagation.inject(trace.setSpan(parent, span), req.header, headersSetter);
    return context.with(withActive(parent, span), () => tracedCall(span, () => next(req)));
  };
}

/** pino mixin: the active span's ids on every line logged inside it. */
export function traceLogFields(): Record<string, string> {
  if (!enabled) return {};
  const span = trace.getSpan(traceContext());
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}` };
}

export { SpanKind };
