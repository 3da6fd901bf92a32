// The built-in scheduler's wake-ups come by NOTIFY. A LISTEN session lost without a word delivers
// none until it is found out (the database's ping, then a re-open): meanwhile the jobs this replica
// arms itself must still fire on time, not at the next recheck (minutes later).
import { test } from "vitest";
import assert from "node:assert/strict";
import { openDatabase } from "@taskmesh/db";
import { createLogger } from "@taskmesh/kit";
import { freshDatabase } from "@taskmesh/testing";
import { PostgresScheduler, schedulerJobsMigration } from "../src/scheduler/postgres-scheduler.js";

const schema = "deaf_scheduler_test";

test("a scheduler whose LISTEN session hears nothing fires the jobs it schedules itself when they are due", { timeout: 30_000 }, async () => {
  const fresh = await freshDatabase();
  const db = await openDatabase({ url: fresh.url, schema, entities: [], migrations: [schedulerJobsMigration(schema)] });
  // The fault: a session that is open and silent, as one on a dead link is until it is found out.
  const deaf = { ...db, listen: async () => async () => {} };
  const scheduler = new PostgresScheduler(deaf, { schema, logger: createLogger("deaf-scheduler-test") });
  const fired = new Map<string, number>();
  try {
    // Nothing to do yet: the next look at the table is the recheck, 5 minutes away.
    await scheduler.start(async (job) => void fired.set(job.id, Date.now()));
    await new Promise((r) => setTimeout(r, 300));
    const dueAt = Date.now() + 500;
    await scheduler.schedule([{ id: "soon", dueAt: new Date(dueAt) }]);
    for (const deadline = dueAt + 5_000; !fired.has("soon") && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    assert.ok(fired.has("soon"), "the job was not delivered within 5 s of its due time");
    assert.ok(fired.get("soon")! >= dueAt, "not before its due time");
  } finally {
    await scheduler.stop();
    await db.close();
    await fresh.drop();
  }
});
