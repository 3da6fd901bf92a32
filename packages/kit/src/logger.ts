import { pino, type Logger } from "pino";
import type { LogLevel } from "./config.js";
import { traceLogFields } from "./tracing.js";

export type { Logger };

/** JSON logs on stdout (a deployable's level: LOG_LEVEL). Lines logged inside a span carry its trace_id and span_id. */
export function createLogger(name: string, level: LogLevel = "info"): Logger {
  return pino({ name, level, base: { service: name }, mixin: traceLogFields });
}
