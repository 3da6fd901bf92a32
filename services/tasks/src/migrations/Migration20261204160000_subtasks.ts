import { Migration } from "@mikro-orm/migrations";

/** Subtasks: a task's parent, a task of the same project (kept so by the service, see task-service.ts). */
export class Migration20261204160000_subtasks extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE tasks.tasks ADD COLUMN parent_id uuid`);
    // Finding a task's subtasks (completing, moving, deleting it) and walking up for cycles.
    this.addSql(`CREATE INDEX tasks_by_parent ON tasks.tasks (parent_id) WHERE parent_id IS NOT NULL`);
  }

  override down(): void {
    this.addSql(`ALTER TABLE tasks.tasks DROP COLUMN parent_id`);
  }
}
