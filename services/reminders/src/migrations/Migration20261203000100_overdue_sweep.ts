import { Migration } from "@mikro-orm/migrations";

/** What the overdue sweep reads every few seconds, by time, without scanning every reminder. */
export class Migration20261203000100_overdue_sweep extends Migration {
  override up(): void {
    this.addSql(`CREATE INDEX reminders_fire_at ON reminders.reminders (fire_at) WHERE fire_at IS NOT NULL`);
    this.addSql(`CREATE INDEX deliveries_pending_not_before ON reminders.deliveries (not_before) WHERE status = 'pending'`);
  }

  override down(): void {
    this.addSql(`DROP INDEX reminders.deliveries_pending_not_before`);
    this.addSql(`DROP INDEX reminders.reminders_fire_at`);
  }
}
