import { Migration } from "@mikro-orm/migrations";

/**
 * Who assigned a task (Todoist's `assigned by:`): the caller that last set its assignee, cleared
 * with the assignee. Indexed as the assignee is: few tasks of a user are assigned.
 */
export class Migration20261207030000_assigned_by extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE tasks.tasks ADD COLUMN assigned_by text`);
    this.addSql(`CREATE INDEX tasks_by_assigner ON tasks.tasks (assigned_by) WHERE assigned_by IS NOT NULL`);
  }

  override down(): void {
    this.addSql(`ALTER TABLE tasks.tasks DROP COLUMN assigned_by`);
  }
}
