import { Migration } from "@mikro-orm/migrations";

/** Schema of the embedded event log; every table lives in `events`. */
export const EVENTS_SCHEMA = "events";

export class Migration20261126000000_event_log extends Migration {
  override name = "Migration20261126000000_event_log";

  override up(): void {
    // One ordered stream per topic. Offsets come from the topic's head row, which publishers
    // update (and so lock) in their transaction: offsets are gapless and in commit order, so a
    // reader can never pass an offset that a slower transaction fills in later.
    this.addSql(`CREATE TABLE events.topics (
      topic text PRIMARY KEY,
      next_offset bigint NOT NULL
    )`);
    this.addSql(`CREATE TABLE events.log (
      topic text NOT NULL,
      "offset" bigint NOT NULL,
      key text NOT NULL,
      value bytea NOT NULL,
      headers jsonb NOT NULL DEFAULT '{}',
      appended_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (topic, "offset")
    )`);
    // A group's position per topic. The owner holds a lease so that one member of a group reads
    // a topic at a time (order per key); a crashed owner's lease runs out and another takes over.
    this.addSql(`CREATE TABLE events.group_offsets (
      group_id text NOT NULL,
      topic text NOT NULL,
      next_offset bigint NOT NULL DEFAULT 0,
      owner text,
      lease_until timestamptz,
      PRIMARY KEY (group_id, topic)
    )`);
    // Stands in for the schema registry: the same ids-in-frames, subjects and references.
    this.addSql(`CREATE TABLE events.schemas (
      id serial PRIMARY KEY,
      subject text NOT NULL,
      version integer NOT NULL,
      schema text NOT NULL,
      refs jsonb NOT NULL DEFAULT '[]',
      registered_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (subject, version)
    )`);
    this.addSql(`CREATE TABLE events.subjects (
      subject text PRIMARY KEY,
      compatibility text NOT NULL
    )`);
  }

  override down(): void {
    this.addSql(`DROP TABLE events.subjects, events.schemas, events.group_offsets, events.log, events.topics`);
  }
}

export const eventLogMigrations = [{ name: "Migration20261126000000_event_log", class: Migration20261126000000_event_log }];
