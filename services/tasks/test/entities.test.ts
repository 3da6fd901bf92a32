// Entities and migrations describe the same tables (@taskmesh/testing/schema-drift says what it compares).
import { test } from "vitest";
import assert from "node:assert/strict";
import { driftAfterMigrations } from "@taskmesh/testing/schema-drift";
import { entities, routines } from "../src/entities.js";
import { migrations } from "../src/migrations/index.js";

test("the tasks schema the migrations leave is the one its entities describe", async () => {
  assert.deepEqual(await driftAfterMigrations({ schema: "tasks", entities, routines, migrations }), []);
});
