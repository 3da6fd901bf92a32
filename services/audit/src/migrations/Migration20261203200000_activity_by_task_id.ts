import { Migration } from "@mikro-orm/migrations";

export class Migration20261203200000_activity_by_task_id extends Migration {
  override name = "Migration20261203200000_activity_by_task_id";

  override up(): void {
    // A member of a shared project reads the history of a task kept under its owner's user id.
    this.addSql(`CREATE INDEX activity_by_task_id ON audit.activity (task_id, occurred_at DESC, seq DESC)`);
  }

  override down(): void {
    this.addSql(`DROP INDEX audit.activity_by_task_id`);
  }
}
