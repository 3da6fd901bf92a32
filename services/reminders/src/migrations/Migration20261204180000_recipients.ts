import { Migration } from "@mikro-orm/migrations";

/** Reminders go to a task's assignee, else its creator: who created each task, as its created event said. */
export class Migration20261204180000_recipients extends Migration {
  override up(): void {
    // Null for tasks armed before: their reminders keep going to the task's owner until assigned.
    this.addSql(`ALTER TABLE reminders.tasks ADD COLUMN creator_id text`);
  }

  override down(): void {
    this.addSql(`ALTER TABLE reminders.tasks DROP COLUMN creator_id`);
  }
}
