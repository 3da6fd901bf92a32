import { Migration } from "@mikro-orm/migrations";

/**
 * Deleted tasks, kept for RestoreTask: the task as it was deleted (its proto3 JSON) and its
 * comments' rows, which the deletion takes from tasks.comments. Pruned with the change feed.
 */
export class Migration20261206100000_deleted_tasks extends Migration {
  override up(): void {
    this.addSql(`CREATE TABLE tasks.deleted_tasks (
      id uuid PRIMARY KEY,
      user_id text NOT NULL,
      task jsonb NOT NULL,
      comments jsonb NOT NULL,
      deleted_at timestamptz NOT NULL
    )`);
    this.addSql(`CREATE INDEX deleted_tasks_deleted_at ON tasks.deleted_tasks (deleted_at)`);
  }

  override down(): void {
    this.addSql(`DROP TABLE tasks.deleted_tasks`);
  }
}
