import { Migration } from "@mikro-orm/migrations";
import type { Database, EntityManager, MigrationEntry } from "@taskmesh/db";

/** A consuming service's schema (where `processed_events` lives) and the consumer's name in it. */
export interface ConsumerName {
  schema: string;
  consumer: string;
}

/**
 * Records event ids as processed in the caller's transaction (for a batch's work in one commit)
 * and resolves to those recorded now: the others were processed before, or repeat an earlier id
 * of the list. The caller does the work of the fresh ones only, in the same transaction.
 */
export async function claimEventIds(db: Database, em: EntityManager, name: ConsumerName, eventIds: readonly string[]): Promise<Set<string>> {
  const rows = await db.query<{ event_id: string }>(em, claimEventIdsStatement(name.schema, "$1", "$2::text[]"), [name.consumer, eventIds]);
  return new Set(rows.map((r) => r.event_id));
}

/**
 * The statement that records event ids as processed and returns (`event_id`) those recorded now,
 * for the consumer and the ids (text[]) the SQL expressions `consumer` and `eventIds` give: for a
 * consumer whose work is one statement, to claim in a CTE of that same statement (atomic without a
 * transaction).
 */
export function claimEventIdsStatement(schema: string, consumer: string, eventIds: string): string {
  return `INSERT INTO ${quoteIdent(schema)}.processed_events (consumer, event_id) SELECT ${consumer}, unnest(${eventIds}) ON CONFLICT DO NOTHING RETURNING event_id`;
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
