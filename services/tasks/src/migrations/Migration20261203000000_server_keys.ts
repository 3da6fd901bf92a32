import { Migration } from "@mikro-orm/migrations";

export class Migration20261203000000_server_keys extends Migration {
  override name = "Migration20261203000000_server_keys";

  override up(): void {
    // Keys the service generates once and every replica shares (page tokens are HMAC-signed with
    // "page-token" unless TASKMESH_PAGE_TOKEN_SECRET is set).
    this.addSql(`CREATE TABLE tasks.server_keys (name text PRIMARY KEY, key bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
  }

  override down(): void {
    this.addSql(`DROP TABLE tasks.server_keys`);
  }
}
