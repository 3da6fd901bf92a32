import { Migration } from "@mikro-orm/migrations";

/** Comments on tasks, and each task's count of them (carried by its snapshot to every member's feed). */
export class Migration20261204180000_comments extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE tasks.tasks ADD COLUMN comment_count integer NOT NULL DEFAULT 0`);
    // seq orders a task's comments (and pages them) exactly, where created_at may tie.
    this.addSql(`CREATE TABLE tasks.comments (
      seq bigserial NOT NULL,
      id uuid PRIMARY KEY,
      task_id uuid NOT NULL REFERENCES tasks.tasks (id) ON DELETE CASCADE,
      author_id text NOT NULL,
      body text NOT NULL,
      created_at timestamptz NOT NULL
    )`);
    this.addSql(`CREATE INDEX comments_by_task ON tasks.comments (task_id, seq)`);
  }

  override down(): void {
    this.addSql(`DROP TABLE tasks.comments`);
    this.addSql(`ALTER TABLE tasks.tasks DROP COLUMN comment_count`);
  }
}
