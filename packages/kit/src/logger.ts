import { pino, type Logger } from "pino";
import { traceLogFields } from "./tracing.js";

export type { Logger };

/** JSON logs on stdout; LOG_LEVEL=debug|info|warn|error|silent. Lines logged inside a span carry its trace_id and span_id. */
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.LOG_LEVEL ?? "info", base: { service: name }, mixin: traceLogFields });
}
