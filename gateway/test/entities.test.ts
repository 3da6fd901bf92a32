// Entities and migrations describe the same tables (schemaDrift in @taskmesh/db says what it compares).
import { test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, schemaDrift } from "@taskmesh/db";
import { freshDatabase } from "@taskmesh/testing";
import { entities, migrations } from "../src/migrations/index.js";

test("the auth schema (accounts, tokens, calendar feeds) the migrations leave is the one its entities describe", async () => {
  const fresh = await freshDatabase();
  const db = await openDatabase({ url: fresh.url, schema: "auth", entities, migrations });
  try {
    assert.deepEqual(await schemaDrift(db), []);
  } finally {
    await db.close();
    await fresh.drop();
  }
});
