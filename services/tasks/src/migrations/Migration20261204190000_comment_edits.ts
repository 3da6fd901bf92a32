import { Migration } from "@mikro-orm/migrations";

/** When a comment's author last edited it. */
export class Migration20261204190000_comment_edits extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE tasks.comments ADD COLUMN updated_at timestamptz`);
  }

  override down(): void {
    this.addSql(`ALTER TABLE tasks.comments DROP COLUMN updated_at`);
  }
}
