// Moves a data folder of the earlier embedded engine (PGlite, in `<data>/pg`) into the app's
// PostgreSQL server (`<data>/postgres`): every schema, row, sequence and migration record, through
// pg_dump's SQL. The old folder stays, renamed `pg.before-upgrade`, until the user removes it.
import { existsSync, renameSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { Logger } from "@taskmesh/kit";
import { startPostgresServer } from "./postgres-server.js";

export const PGLITE_FOLDER = "pg";
export const POSTGRES_FOLDER = "postgres";

/** True when `dataDir` holds PGlite data that was not moved yet. */
export function needsUpgrade(dataDir: string): boolean {
  return existsSync(path.join(dataDir, PGLITE_FOLDER, "PG_VERSION")) && !existsSync(path.join(dataDir, POSTGRES_FOLDER, "PG_VERSION"));
}

interface TableCount {
  table: string;
  rows: number;
}

const COUNT_ROWS = `
  SELECT format('%I.%I', n.nspname, c.relname) AS "table"
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  ORDER BY 1`;

async function countRows(query: (sql: string) => Promise<{ rows: Record<string, unknown>[] }>): Promise<TableCount[]> {
  const tables = (await query(COUNT_ROWS)).rows.map((r) => String(r.table));
  const out: TableCount[] = [];
  for (const table of tables) out.push({ table, rows: Number((await query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n) });
  return out;
}

export async function upgradePgliteData(dataDir: string, say: (line: string) => void, logger: Logger): Promise<TableCount[]> {
  if (!needsUpgrade(dataDir)) throw new Error(`nothing to move: ${dataDir} has no ${PGLITE_FOLDER}/ folder, or already has ${POSTGRES_FOLDER}/`);
  // Loaded only here: the app itself no longer runs PGlite.
  const { PGlite } = await import("@electric-sql/pglite");
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  const { pgDump } = await import("@electric-sql/pglite-tools/pg_dump");

  say(`1/4 reading ${path.join(dataDir, PGLITE_FOLDER)}…`);
  const old = await PGlite.create(path.join(dataDir, PGLITE_FOLDER), { extensions: { pg_trgm } });
  let before: TableCount[];
  let sql: string;
  try {
    before = await countRows((q) => old.query(q));
    say(`    ${before.length} tables, ${before.reduce((n, t) => n + t.rows, 0)} rows`);
    say("2/4 exporting (pg_dump)…");
    sql = await (await pgDump({ pg: old, args: ["--no-owner", "--no-privileges"] })).text();
  } finally {
    await old.close();
  }

  say(`3/4 importing into PostgreSQL in ${path.join(dataDir, POSTGRES_FOLDER)}…`);
  const target = path.join(dataDir, POSTGRES_FOLDER);
  const server = await startPostgresServer(target, logger);
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query("BEGIN");
      await client.query(sql);
      await client.query("COMMIT");
      // pg_dump empties the search path for the session; the checks below qualify every name.
      const after = await countRows((q) => client.query(q));
      say("4/4 checking every table…");
      const differ = before.filter((t) => after.find((a) => a.table === t.table)?.rows !== t.rows);
      if (differ.length > 0) throw new Error(`row counts differ after the import: ${differ.map((t) => t.table).join(", ")}`);
    } finally {
      await client.end();
    }
  } catch (err) {
    await server.stop();
    // A half-made server folder would hide the old data from the next attempt.
    renameSync(target, `${target}.failed-${Date.now()}`);
    throw err;
  }
  await server.stop();
  renameSync(path.join(dataDir, PGLITE_FOLDER), path.join(dataDir, `${PGLITE_FOLDER}.before-upgrade`));
  return before;
}
