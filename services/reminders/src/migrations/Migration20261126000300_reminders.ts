import { Migration } from "@mikro-orm/migrations";

export class Migration20261126000300_reminders extends Migration {
  override name = "Migration20261126000300_reminders";

  override up(): void {
    // What this service knows of each task (from task-events): enough to arm and word reminders.
    // version: the newest task event applied; older ones (replays, a direct apply that overtook
    // the event) are ignored.
    this.addSql(`CREATE TABLE reminders.tasks (
      task_id uuid PRIMARY KEY,
      user_id text NOT NULL,
      title text NOT NULL,
      version bigint NOT NULL,
      deleted boolean NOT NULL DEFAULT false
    )`);
    // One row per reminder a task has or had. base_fire_at: the time its definition gives;
    // fire_at: when it fires next (base, or the snooze), null when nothing is pending.
    this.addSql(`CREATE TABLE reminders.reminders (
      task_id uuid NOT NULL,
      reminder_id text NOT NULL,
      user_id text NOT NULL,
      position integer NOT NULL,
      at timestamptz,
      before_due_seconds integer,
      base_fire_at timestamptz,
      fire_at timestamptz,
      state smallint NOT NULL,
      cancel_reason text NOT NULL DEFAULT '',
      last_fired_at timestamptz,
      PRIMARY KEY (task_id, reminder_id)
    )`);
    this.addSql(`CREATE INDEX reminders_upcoming ON reminders.reminders (user_id, fire_at, task_id, reminder_id) WHERE fire_at IS NOT NULL`);
    // Unique per reminder and scheduled time: a second delivery of the same timer fires nothing.
    this.addSql(`CREATE TABLE reminders.fires (
      id bigserial PRIMARY KEY,
      event_id uuid NOT NULL,
      task_id uuid NOT NULL,
      reminder_id text NOT NULL,
      user_id text NOT NULL,
      task_title text NOT NULL,
      scheduled_for timestamptz NOT NULL,
      fired_at timestamptz NOT NULL,
      UNIQUE (task_id, reminder_id, scheduled_for)
    )`);
    // Webhook and e-mail deliveries of fires; the scheduler wakes them at not_before and retries.
    this.addSql(`CREATE TABLE reminders.deliveries (
      id bigserial PRIMARY KEY,
      fire_id bigint NOT NULL REFERENCES reminders.fires (id),
      user_id text NOT NULL,
      channel text NOT NULL,
      target text NOT NULL,
      not_before timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'pending',
      attempts integer NOT NULL DEFAULT 0,
      last_error text NOT NULL DEFAULT '',
      delivered_at timestamptz
    )`);
    this.addSql(`CREATE INDEX deliveries_pending ON reminders.deliveries (id) WHERE status = 'pending'`);
    this.addSql(`CREATE TABLE reminders.preferences (
      user_id text PRIMARY KEY,
      channels text[] NOT NULL,
      webhook_url text NOT NULL DEFAULT '',
      webhook_secret text NOT NULL DEFAULT '',
      email_address text NOT NULL DEFAULT '',
      quiet_start text NOT NULL DEFAULT '',
      quiet_end text NOT NULL DEFAULT '',
      time_zone text NOT NULL DEFAULT 'UTC'
    )`);
  }

  override down(): void {
    this.addSql(`DROP TABLE reminders.preferences`);
    this.addSql(`DROP TABLE reminders.deliveries`);
    this.addSql(`DROP TABLE reminders.fires`);
    this.addSql(`DROP TABLE reminders.reminders`);
    this.addSql(`DROP TABLE reminders.tasks`);
  }
}
