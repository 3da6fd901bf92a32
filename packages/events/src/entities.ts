import { defineEntity, p } from "@mikro-orm/core";

// The outbox and processed_events have no schema of their own: each owner registers them and they
// take its schema (see outboxMigration and processedEventsMigration).

export const OutboxEntry = defineEntity({
  name: "OutboxEntry",
  tableName: "outbox",
  properties: {
    id: p.bigint("string").primary().autoincrement(),
    topic: p.text(),
    key: p.text(),
    payload: p.blob(),
    headers: p.json<Record<string, string>>().defaultRaw(`'{}'`),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

export const ProcessedEvent = defineEntity({
  name: "ProcessedEvent",
  tableName: "processed_events",
  indexes: [{ name: "processed_events_at", properties: ["processedAt"] }],
  properties: {
    consumer: p.text().primary(),
    eventId: p.text().primary(),
    processedAt: p.datetime().defaultRaw("now()"),
  },
});

/** The embedded event log's tables (eventLogMigrations), in the `events` schema. */
export const Topic = defineEntity({
  name: "Topic",
  schema: "events",
  tableName: "topics",
  properties: {
    topic: p.text().primary(),
    nextOffset: p.bigint("string"),
  },
});

export const LogRecord = defineEntity({
  name: "LogRecord",
  schema: "events",
  tableName: "log",
  properties: {
    topic: p.text().primary(),
    offset: p.bigint("string").primary(),
    key: p.text(),
    value: p.blob(),
    headers: p.json<Record<string, string>>().defaultRaw(`'{}'`),
    appendedAt: p.datetime().defaultRaw("now()"),
  },
});

export const GroupOffset = defineEntity({
  name: "GroupOffset",
  schema: "events",
  tableName: "group_offsets",
  properties: {
    groupId: p.text().primary(),
    topic: p.text().primary(),
    nextOffset: p.bigint("string").defaultRaw("0"),
    owner: p.text().strictNullable(),

    leaseUntil: p.datetime().strictNullable(),
  },
});

export const SchemaVersion = defineEntity({
  name: "SchemaVersion",
  schema: "events",
  tableName: "schemas",
  uniques: [{ name: "schemas_subject_version_key", properties: ["subject", "version"] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    subject: p.text(),
    version: p.integer(),
    schema: p.text(),
    refs: p.json<unknown[]>().defaultRaw(`'[]'`),
    registeredAt: p.datetime().defaultRaw("now()"),
  },
});

export const Subject = defineEntity({
  name: "Subject",
  schema: "events",
  tableName: "subjects",
  properties: {
    subject: p.text().primary(),
    compatibility: p.text(),
  },
});

export const eventLogEntities = [Topic, LogRecord, GroupOffset, SchemaVersion, Subject];
