// The app's own PostgreSQL server plans a user's first pages with statistics soon after the first
// tasks arrive. Without any (a table never analyzed), the planner takes the user's tasks for a
// handful and sorts all of them for every page of `status:open` (16 ms of CPU a page at 10,000
// tasks), until autovacuum's first ANALYZE, which by default came one to two minutes later.
import { test } from "vitest";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger } from "@taskmesh/kit";
import { startTasksModule } from "@taskmesh/tasks";
import { startPostgresServer } from "../src/postgres-server.js";

test("a page of status:open walks the due index within seconds of a bulk import, without an ANALYZE by hand", { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "taskmesh-pg-stats-"));
  const server = await startPostgresServer(path.join(dataDir, "postgres"), createLogger("postgres-server-test"));
  try {
    const tasks = await startTasksModule({ databaseUrl: server.url });
    try {
      const sql = <Row>(text: string, params: unknown[] = []) => tasks.db.query<Row>(tasks.db.em(), text, params);
      const imported = Date.now();
      await sql(
        `INSERT INTO tasks.tasks (id, user_id, title, priority, tags, due_date, due_at, time_zone, created_at, updated_at)
         SELECT gen_random_uuid(), 'importer', 'Imported ' || g, 4, '{work}', '2027-01-15', '2027-01-14T23:00:00Z', 'Europe/Berlin', now(), now()
           FROM generate_series(1, 5000) AS g`,
      );
      // The shape of ListTasks' first page of `status:open` by due date.
      const page = `SELECT * FROM tasks.tasks WHERE user_id = $1 AND (status = $2)
                     ORDER BY coalesce(due_at, 'infinity'::timestamptz) ASC, id ASC LIMIT 51`;
      let plan = "";
      let analyzed = false;
      // An index in due order (the open tasks' own, or all tasks'), and statistics autovacuum made:
      // ~20 s after the import on a quiet machine; beside CI's other suites its worker has come later than 45 s.
      while (!/Index Scan using tasks_(open_)?by_due/.test(plan) || /Sort Key/.test(plan) || !analyzed) {
        assert.ok(Date.now() - imported < 90_000, `90 s after the import, analyzed: ${analyzed}, plan:\n${plan}`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        plan = (await sql<{ "QUERY PLAN": string }>(`EXPLAIN ${page}`, ["importer", 1])).map((r) => r["QUERY PLAN"]).join("\n");
        const [stats] = await sql<{ analyzed: boolean }>(`SELECT last_autoanalyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE relid = 'tasks.tasks'::regclass`);
        analyzed = stats!.analyzed;
      }
    } finally {
      await tasks.stop();
    }
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
