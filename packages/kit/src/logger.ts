import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs on stdout; LOG_LEVEL=debug|info|warn|error|silent. */
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.LOG_LEVEL ?? "info", base: { service: name } });
}
