import { Migration } from "@mikro-orm/migrations";

export class Migration20261125200000_activity extends Migration {
  override name = "Migration20261125200000_activity";

  override up(): void {
    // One row per recorded event. seq is the order of recording: it breaks ties between entries of
    // the same instant, so keyset pages never skip or repeat one.
    this.addSql(`CREATE TABLE audit.activity (
      seq bigserial PRIMARY KEY,
      event_id text NOT NULL,
      user_id text NOT NULL,
      task_id text NOT NULL,
      kind smallint NOT NULL,
      occurred_at timestamptz NOT NULL,
      actor text NOT NULL DEFAULT '',
      device text NOT NULL DEFAULT '',
      task_version bigint NOT NULL DEFAULT 0,
      task_title text NOT NULL DEFAULT '',
      time_zone text NOT NULL DEFAULT 'UTC',
      changes jsonb NOT NULL DEFAULT '[]',
      reminder jsonb,
      snapshot jsonb,
      recorded_at timestamptz NOT NULL DEFAULT now()
    )`);
    // Newest-first keyset pages: the caller's whole history, and one task's.
    this.addSql(`CREATE INDEX activity_by_user ON audit.activity (user_id, occurred_at DESC, seq DESC)`);
    this.addSql(`CREATE INDEX activity_by_task ON audit.activity (user_id, task_id, occurred_at DESC, seq DESC)`);
    // The retention purge takes the oldest entries first.
    this.addSql(`CREATE INDEX activity_by_age ON audit.activity (occurred_at)`);
  }

  override down(): void {
    this.addSql(`DROP TABLE audit.activity`);
  }
}
