import { Migration } from "@mikro-orm/migrations";

export class Migration20261204180000_activity_comment extends Migration {
  override name = "Migration20261204180000_activity_comment";

  override up(): void {
    // Comment entries keep the comment (proto3 JSON of taskmesh.tasks.v1.Comment).
    this.addSql(`ALTER TABLE audit.activity ADD COLUMN comment jsonb`);
  }

  override down(): void {
    this.addSql(`ALTER TABLE audit.activity DROP COLUMN comment`);
  }
}
