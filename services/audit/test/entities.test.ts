// Entities and migrations describe the same tables (@taskmesh/testing/schema-drift says what it compares).
import { test } from "vitest";
import assert from "node:assert/strict";
import { driftAfterMigrations } from "@taskmesh/testing/schema-drift";
import { entities } from "../src/entities.js";
import { AUDIT_SCHEMA, migrations } from "../src/migrations/index.js";

test("the audit schema the migrations leave is the one its entities describe", async () => {
  assert.deepEqual(await driftAfterMigrations({ schema: AUDIT_SCHEMA, entities, migrations }), []);
});
