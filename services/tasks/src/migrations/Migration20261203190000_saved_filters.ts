import { Migration } from "@mikro-orm/migrations";

/** Filters users keep, one row per query. */
export class Migration20261203190000_saved_filters extends Migration {
  override up(): void {
    this.addSql(`CREATE TABLE tasks.saved_filters (
      id uuid PRIMARY KEY,
      user_id text NOT NULL,
      name text NOT NULL,
      query text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (user_id, query)
    )`);
  }

  override down(): void {
    this.addSql(`DROP TABLE tasks.saved_filters`);
  }
}
