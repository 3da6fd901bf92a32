import { Migration } from "@mikro-orm/migrations";

/** The notification inbox (a fire's read state) and the browsers' Web Push subscriptions. */
export class Migration20261203000200_push_inbox extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE reminders.fires ADD COLUMN read_at timestamptz`);
    // What fired before the inbox existed was seen (or missed) long ago: not unread now.
    this.addSql(`UPDATE reminders.fires SET read_at = fired_at`);
    this.addSql(`CREATE INDEX fires_inbox ON reminders.fires (user_id, fired_at DESC, id DESC)`);
    this.addSql(`CREATE INDEX fires_unread ON reminders.fires (user_id) WHERE read_at IS NULL`);
    this.addSql(`CREATE TABLE reminders.push_subscriptions (
      id bigserial PRIMARY KEY,
      user_id text NOT NULL,
      endpoint text NOT NULL UNIQUE,
      p256dh text NOT NULL,
      auth text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    this.addSql(`CREATE INDEX push_subscriptions_user ON reminders.push_subscriptions (user_id)`);
  }

  override down(): void {
    this.addSql(`DROP TABLE reminders.push_subscriptions`);
    this.addSql(`DROP INDEX reminders.fires_unread`);
    this.addSql(`DROP INDEX reminders.fires_inbox`);
    this.addSql(`ALTER TABLE reminders.fires DROP COLUMN read_at`);
  }
}
