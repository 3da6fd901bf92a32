import { pino, type Logger } from "pino";

/** A line as the code under test logged it: its fields as given (errors not serialized), msg and level. */
export type LoggedLine = Record<string, unknown> & { msg: string | undefined; level: string };

/**
 * A real pino logger whose lines are kept, not written: the fields as the caller passed them, so a
 * test can find the very error object it made.
 */
export function recordingLogger(): { lines: LoggedLine[]; logger: Logger } {
  const lines: LoggedLine[] = [];
  const logger = pino({
    level: "trace",
    hooks: {
      logMethod(args, _method, level) {
        const [first, second] = args;
        const fields = typeof first === "object" && first !== null ? first : {};
        const msg = typeof first === "string" ? first : typeof second === "string" ? second : undefined;
        lines.push({ ...fields, msg, level: pino.levels.labels[level] ?? String(level) });
      },
    },
  });
  return { lines, logger };
}
