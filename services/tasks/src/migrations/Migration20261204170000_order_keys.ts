import { Migration } from "@mikro-orm/migrations";

/** Manual order: a fractional order key per task, unique among its siblings (see order-keys.ts). */
export class Migration20261204170000_order_keys extends Migration {
  override up(): void {
    // Compared byte by byte, as fractional-indexing orders its keys. The default (a key past every
    // one the service makes, random) serves a replica of the previous version inserting during a
    // rolling upgrade: its task goes last.
    this.addSql(`ALTER TABLE tasks.tasks ADD COLUMN order_key text COLLATE "C" NOT NULL
                   DEFAULT 'z' || substr(md5(random()::text || clock_timestamp()::text), 1, 26)`);
    // Existing tasks keep the order they were created in: integer keys "d" + 4 base-62 digits
    // (the form fractional-indexing gives integers of that size), numbered within each group.
    this.addSql(`WITH numbered AS (
        SELECT id, row_number() OVER (PARTITION BY user_id, coalesce(parent_id, project_id), CASE WHEN parent_id IS NULL THEN section_id END
                                      ORDER BY created_at, id) AS n
          FROM tasks.tasks
      ), digits AS (SELECT '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'::text AS d)
      UPDATE tasks.tasks t SET order_key = 'd' || substr(d, (n / 238328 % 62)::int + 1, 1) || substr(d, (n / 3844 % 62)::int + 1, 1)
                                                || substr(d, (n / 62 % 62)::int + 1, 1) || substr(d, (n % 62)::int + 1, 1)
        FROM numbered, digits WHERE numbered.id = t.id`);
    // Siblings: the subtasks of one parent, or the top-level tasks of one project and section.
    this.addSql(`CREATE UNIQUE INDEX tasks_order ON tasks.tasks
                   (user_id, (coalesce(parent_id, project_id)), (CASE WHEN parent_id IS NULL THEN section_id END), order_key) NULLS NOT DISTINCT`);
    // ListTasks order_by "manual" (see list-query.ts).
    this.addSql(`CREATE INDEX tasks_by_manual ON tasks.tasks (user_id, order_key, id)`);
  }

  override down(): void {
    this.addSql(`ALTER TABLE tasks.tasks DROP COLUMN order_key`);
  }
}
