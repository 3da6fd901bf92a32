// Entities and migrations describe the same tables (schemaDrift in @taskmesh/db says what it compares).
import { test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, schemaDrift } from "@taskmesh/db";
import { freshDatabase } from "@taskmesh/testing";
import { entities } from "../src/entities.js";
import { AUDIT_SCHEMA, migrations } from "../src/migrations/index.js";

test("the audit schema the migrations leave is the one its entities describe", async () => {
  const fresh = await freshDatabase();
  const db = await openDatabase({ url: fresh.url, schema: AUDIT_SCHEMA, entities, migrations });
  try {
    assert.deepEqual(await schemaDrift(db), []);
  } finally {
    await db.close();
    await fresh.drop();
  }
});
