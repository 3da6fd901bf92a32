import { createHash } from "node:crypto";
import type pg from "pg";

/**
 * Statements a session runs again and again become named prepared statements of that session, as
 * Npgsql's automatic preparation does: PostgreSQL then parses, analyses and plans each once per
 * session instead of once per call (planning was most of the server's time for the short statements
 * of a create: 0.065 of 0.082 ms for the project's lookup). After five custom plans PostgreSQL keeps
 * a generic plan where it estimates it costs no more than the custom ones did.
 *
 * What is not prepared:
 * - a statement text this process has run fewer times than the threshold (the database URL's
 *   `prepare_threshold`, default 5; 0 prepares nothing): migrations, one-offs;
 * - beyond `MAX_PER_SESSION` texts in one session: the server keeps each plan in the session's
 *   memory, and statements whose text follows the caller's input (a filter's shape, the length of
 *   an IN list) would otherwise fill it; those past the cap run unnamed, as before;
 * - a statement whose result columns follow a table's definition (`t.*`, `SELECT * FROM t`,
 *   `RETURNING *`): after a migration adds a column, a prepared one fails with "cached plan must not
 *   change result type" in every replica still running, where an unnamed one just returns the new
 *   column. `SELECT * FROM unnest(…)` and `FROM ROWS FROM (…)` have fixed columns and are prepared;
 * - a statement that starts with PLANNED_EACH_CALL: one whose best plan depends on its values. The
 *   generic plan PostgreSQL may settle on after five calls serves the average value: for ListTasks
 *   pages at 100,000 tasks (bench/list-queries.ts) `lantern tag:home` took 24.5 ms instead of 5 and
 *   `updated:last-week` 22 instead of 1.4.
 */
export const DEFAULT_PREPARE_THRESHOLD = 5;
export const MAX_PER_SESSION = 200;
// Texts are kept while counted (a few kB at most each), so the count is bounded.
const USES_TRACKED = 1_000;

/** The start of a statement to plan for its values on every call (see above). */
export const PLANNED_EACH_CALL = "/* planned each call */ ";

const TABLE_STAR = /\.\*|RETURNING\s+\*|SELECT\s+\*\s*,|SELECT\s+\*\s+FROM\s+(?!unnest\s*\(|ROWS\s+FROM\s*\(|jsonb_to_recordset\s*\()/i;

/** Whether a statement's result columns cannot change with a table's definition. */
export function fixedColumns(sql: string): boolean {
  return !TABLE_STAR.test(sql);
}

/** How many times this process ran each statement text with parameters (bounded: cleared when full). */
const uses = new Map<string, number>();

function nameOf(sql: string): string {
  return `tm_${createHash("sha1").update(sql).digest("base64url")}`;
}

/** The query arguments to pass on: `{ name, text, values }` for a statement to run prepared in `session`. */
export function preparedArgs(session: Map<string, string>, args: unknown[], threshold: number): unknown[] {
  const [sql, values] = args;
  if (typeof sql !== "string" || !Array.isArray(values) || values.length === 0 || typeof args[2] === "function" || sql.startsWith(PLANNED_EACH_CALL)) return args;
  let name = session.get(sql);
  if (name === undefined) {
    const seen = (uses.get(sql) ?? 0) + 1;
    if (seen < threshold) {
      if (uses.size >= USES_TRACKED) uses.clear();
      uses.set(sql, seen);
      return args;
    }
    if (session.size >= MAX_PER_SESSION || !fixedColumns(sql)) return args;
    name = nameOf(sql);
    session.set(sql, name);
  }
  return [{ name, text: sql, values }];
}

/** Has a session run its repeated statements prepared (see above). */
export function prepareRepeatedStatements(client: pg.PoolClient, threshold: number): void {
  const session = new Map<string, string>();
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  Object.defineProperty(client, "query", { configurable: true, value: (...args: unknown[]) => query(...preparedArgs(session, args, threshold)) });
}
