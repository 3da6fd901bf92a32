import { Migration } from "@mikro-orm/migrations";

/**
 * The covering index of dues also holds the due date: a due filter tests an all-day task by its
 * date (the same wherever the viewer is), and a page of a due range must still find its ids in the
 * index alone.
 */
export class Migration20261206210000_due_dates_covered extends Migration {
  override up(): void {
    this.addSql(`DROP INDEX tasks.tasks_due_covering`);
    this.addSql(`CREATE INDEX tasks_due_covering ON tasks.tasks (user_id, due_at, priority) INCLUDE (status, tags, id, due_date) WHERE due_at IS NOT NULL`);
  }

  override down(): void {
    this.addSql(`DROP INDEX tasks.tasks_due_covering`);
    this.addSql(`CREATE INDEX tasks_due_covering ON tasks.tasks (user_id, due_at, priority) INCLUDE (status, tags, id) WHERE due_at IS NOT NULL`);
  }
}
