// Entities and migrations describe the same tables (@taskmesh/testing/schema-drift says what it compares).
import { test } from "vitest";
import assert from "node:assert/strict";
import { openDatabase } from "@taskmesh/db";
import { freshDatabase } from "@taskmesh/testing";
import { driftAfterMigrations, schemaDrift } from "@taskmesh/testing/schema-drift";
import { eventLogEntities } from "../src/entities.js";
import { eventLogMigrations, EVENTS_SCHEMA, OutboxEntry, outboxMigration, ProcessedEvent, processedEventsMigration } from "../src/index.js";

test("the embedded event log's tables are the ones its entities describe", async () => {
  assert.deepEqual(await driftAfterMigrations({ schema: EVENTS_SCHEMA, entities: eventLogEntities, migrations: eventLogMigrations }), []);
});

test("the outbox and processed_events tables are the ones their entities describe, in each owner's schema", async () => {
  // One process holds several owners of these entities at once (npm start): each keeps its own schema.
  const fresh = await freshDatabase();
  const owners = await Promise.all(
    ["producer", "consumer"].map((schema) =>
      openDatabase({ url: fresh.url, schema, entities: [OutboxEntry, ProcessedEvent], migrations: [outboxMigration(schema), processedEventsMigration(schema)] }),
    ),
  );
  try {
    for (const db of owners) assert.deepEqual(await schemaDrift(db), []);
  } finally {
    await Promise.all(owners.map((db) => db.close()));
    await fresh.drop();
  }
});
