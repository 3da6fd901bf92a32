import { Migration } from "@mikro-orm/migrations";
import type { Database, EntityManager, MigrationEntry } from "@taskmesh/db";

/** A consuming service's schema (where `processed_events` lives) and the consumer's name in it. */
export interface ConsumerName {
  schema: string;
  consumer: string;
}

/**
 * Applies `work` at most once per (consumer, event id): the event id is recorded in the same
 * transaction as the work, so a redelivered event (at-least-once bus) finds it and is skipped,
 * and a failed work leaves no record. Resolves true when the work ran, false for a duplicate.
 */
export async function processOnce(db: Database, em: EntityManager, name: ConsumerName, eventId: string, work: (em: EntityManager) => Promise<void>): Promise<boolean> {
  return em.transactional(async (txEm) => {
    const inserted = await db.query(txEm, `INSERT INTO ${quoteIdent(name.schema)}.processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`, [name.consumer, eventId]);
    if (inserted.length === 0) return false;
    await work(txEm);
    return true;
  });
}

/** Add to a consuming service's migrations: creates `<schema>.processed_events`. */
export function processedEventsMigration(schema: string): MigrationEntry {
  const name = "Migration20261126000100_processed_events";
  class ProcessedEvents extends Migration {
    override name = name;
    override up(): void {
      this.addSql(`CREATE TABLE ${quoteIdent(schema)}.processed_events (
        consumer text NOT NULL,
        event_id text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
      this.addSql(`CREATE INDEX processed_events_at ON ${quoteIdent(schema)}.processed_events (processed_at)`);
    }
    override down(): void {
      this.addSql(`DROP TABLE ${quoteIdent(schema)}.processed_events`);
    }
  }
  return { name, class: ProcessedEvents };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
