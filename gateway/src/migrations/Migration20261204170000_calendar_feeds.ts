import { Migration } from "@mikro-orm/migrations";

export class Migration20261204170000_calendar_feeds extends Migration {
  override name = "Migration20261204170000_calendar_feeds";

  override up(): void {
    // A calendar app fetches a feed by its secret URL alone; only the secret's hash is kept, as for
    // API tokens. project_id null: every task the user may see; else that project's.
    this.addSql(`CREATE TABLE auth.calendar_feeds (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
      project_id uuid,
      secret_hash bytea NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz
    )`);
    // One live feed per user and scope: regenerating revokes the previous one.
    this.addSql(`CREATE UNIQUE INDEX calendar_feeds_live ON auth.calendar_feeds (user_id, coalesce(project_id, '00000000-0000-0000-0000-000000000000')) WHERE revoked_at IS NULL`);
  }

  override down(): void {
    this.addSql(`DROP TABLE auth.calendar_feeds`);
  }
}
