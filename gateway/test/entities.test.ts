// Entities and migrations describe the same tables (@taskmesh/testing/schema-drift says what it compares).
import { test } from "vitest";
import assert from "node:assert/strict";
import { driftAfterMigrations } from "@taskmesh/testing/schema-drift";
import { entities, migrations } from "../src/migrations/index.js";

test("the auth schema (accounts, tokens, calendar feeds) the migrations leave is the one its entities describe", async () => {
  assert.deepEqual(await driftAfterMigrations({ schema: "auth", entities, migrations }), []);
});
