import { Migration } from "@mikro-orm/migrations";

/**
 * Open tasks by due, as the list orders them: the default list (`status:open`, by due) of someone
 * whose tasks are mostly completed (years of them) would otherwise walk every completed task on the
 * way to a page of open ones.
 */
export class Migration20261206140000_open_by_due extends Migration {
  override up(): void {
    this.addSql(`CREATE INDEX tasks_open_by_due ON tasks.tasks (user_id, (coalesce(due_at, 'infinity'::timestamptz)), id) WHERE status = 1`);
  }

  override down(): void {
    this.addSql(`DROP INDEX tasks.tasks_open_by_due`);
  }
}
