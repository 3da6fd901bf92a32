import { Migration } from "@mikro-orm/migrations";

export class Migration20261205170000_session_epoch_notify extends Migration {
  override name = "Migration20261205170000_session_epoch_notify";

  override up(): void {
    // A sign-out everywhere (session_epoch moved on) tells every gateway too, so each ends the
    // account's open live sockets at once instead of at their next heartbeat.
    this.addSql(`DROP TRIGGER users_credentials_changed ON auth.users`);
    this.addSql(`CREATE TRIGGER users_credentials_changed AFTER UPDATE OF id, email, time_zone, session_epoch OR DELETE ON auth.users
      FOR EACH ROW EXECUTE FUNCTION auth.notify_credentials_changed('id')`);
  }

  override down(): void {
    this.addSql(`DROP TRIGGER users_credentials_changed ON auth.users`);
    this.addSql(`CREATE TRIGGER users_credentials_changed AFTER UPDATE OF id, email, time_zone OR DELETE ON auth.users
      FOR EACH ROW EXECUTE FUNCTION auth.notify_credentials_changed('id')`);
  }
}
