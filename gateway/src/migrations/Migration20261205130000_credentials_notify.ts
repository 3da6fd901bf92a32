import { Migration } from "@mikro-orm/migrations";

export class Migration20261205130000_credentials_notify extends Migration {
  override name = "Migration20261205130000_credentials_notify";

  override up(): void {
    // Gateways keep live API tokens in memory (ApiTokenCache): whatever changes what a token stands
    // for tells them, in the transaction that changes it, whichever code or person wrote it. Only
    // the columns that matter: recording a token's last use must not empty the caches.
    // The payload is the user's id, from the column the trigger names.
    this.addSql(`CREATE FUNCTION auth.notify_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('auth_credentials', to_jsonb(OLD) ->> TG_ARGV[0]);
        RETURN NULL;
      END $$`);
    this.addSql(`CREATE TRIGGER api_tokens_credentials_changed AFTER UPDATE OF user_id, secret_hash, expires_at, revoked_at, scopes OR DELETE ON auth.api_tokens
      FOR EACH ROW EXECUTE FUNCTION auth.notify_credentials_changed('user_id')`);
    this.addSql(`CREATE TRIGGER users_credentials_changed AFTER UPDATE OF id, email, time_zone OR DELETE ON auth.users
      FOR EACH ROW EXECUTE FUNCTION auth.notify_credentials_changed('id')`);
  }

  override down(): void {
    this.addSql(`DROP TRIGGER users_credentials_changed ON auth.users`);
    this.addSql(`DROP TRIGGER api_tokens_credentials_changed ON auth.api_tokens`);
    this.addSql(`DROP FUNCTION auth.notify_credentials_changed()`);
  }
}
