import { Migration } from "@mikro-orm/migrations";

export class Migration20261125210000_activity_by_kind extends Migration {
  override name = "Migration20261125210000_activity_by_kind";

  override up(): void {
    // ListActivity with kinds (e.g. only reminders): without it a rare kind meant reading the
    // user's whole history (a sequential scan of 100,000 rows for one page).
    this.addSql(`CREATE INDEX activity_by_user_kind ON audit.activity (user_id, kind, occurred_at DESC, seq DESC)`);
  }

  override down(): void {
    this.addSql(`DROP INDEX audit.activity_by_user_kind`);
  }
}
