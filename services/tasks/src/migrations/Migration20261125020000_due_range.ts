import { Migration } from "@mikro-orm/migrations";

export class Migration20261125020000_due_range extends Migration {
  override name = "Migration20261125020000_due_range";

  override up(): void {
    // `due:` filters compare due_at itself; tasks_by_due orders by COALESCE(due_at, 'infinity') and
    // cannot bound a range, so "due:next-7-days" scanned every earlier task of the user.
    this.addSql(`CREATE INDEX tasks_due_range ON tasks.tasks (user_id, due_at) WHERE due_at IS NOT NULL`);
  }

  override down(): void {
    this.addSql(`DROP INDEX tasks.tasks_due_range`);
  }
}
