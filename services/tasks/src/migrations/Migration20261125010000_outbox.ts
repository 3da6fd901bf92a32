import { Migration } from "@mikro-orm/migrations";

export class Migration20261125010000_outbox extends Migration {
  override name = "Migration20261125010000_outbox";

  override up(): void {
    // Transactional outbox: events are written with the state change that caused them and
    // published by the relay afterwards, in id order (so in order per key).
    this.addSql(`CREATE TABLE tasks.outbox (
      id bigserial PRIMARY KEY,
      topic text NOT NULL,
      key text NOT NULL,
      payload bytea NOT NULL,
      headers jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  override down(): void {
    this.addSql(`DROP TABLE tasks.outbox`);
  }
}
