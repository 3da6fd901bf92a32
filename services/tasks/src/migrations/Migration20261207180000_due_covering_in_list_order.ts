import { Migration } from "@mikro-orm/migrations";

/**
 * The covering index of dues is keyed in list order (tasks_by_due's key): a page of a due range
 * with other terms walks the range in the page's order, tests each entry in the index and stops at
 * the page's end, where keyed by due_at it found every match of the range and sorted them (tag +
 * priority + the next 7 days at 100,000 tasks: 2.3–2.9 → 0.9–1.3 ms for the page's statement).
 * Priority is a key column so that it is tested before the table is asked whether the entry is
 * visible. The index stays partial: with every task's tags in one index the planner, which cannot
 * tell how many of one user's tasks are untagged, scans all of them for `tag:none` (5 → 31 ms).
 */
export class Migration20261207180000_due_covering_in_list_order extends Migration {
  override up(): void {
    this.addSql(`DROP INDEX tasks.tasks_due_covering`);
    this.addSql(
      `CREATE INDEX tasks_due_covering ON tasks.tasks (user_id, (coalesce(due_at, 'infinity'::timestamptz)), id, priority) INCLUDE (due_at, status, tags, due_date) WHERE due_at IS NOT NULL`,
    );
  }

  override down(): void {
    this.addSql(`DROP INDEX tasks.tasks_due_covering`);
    this.addSql(`CREATE INDEX tasks_due_covering ON tasks.tasks (user_id, due_at, priority) INCLUDE (status, tags, id, due_date) WHERE due_at IS NOT NULL`);
  }
}
