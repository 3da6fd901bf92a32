// Which timers a batch of task events syncs: those of the tasks with reminders, and those of a
// duplicate's task (its first delivery may have committed and failed to schedule); a task without
// reminders costs no read of the reminders table and no call to the scheduler. Real PostgreSQL; the
// scheduler records its calls.
import { afterAll, beforeAll, expect, test } from "vitest";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { openDatabase, type Database } from "@taskmesh/db";
import { TaskEventSchema, type TaskEvent } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { freshDatabase } from "@taskmesh/testing";
import { entities } from "../src/entities.js";
import { migrations, SCHEMA } from "../src/migrations/index.js";
import { ReminderEngine } from "../src/reminder-engine.js";
import type { Scheduler, SchedulerJob } from "../src/scheduler/scheduler.js";
import { logger } from "./harness.js";

let fresh: Awaited<ReturnType<typeof freshDatabase>>;
let db: Database;
beforeAll(async () => {
  fresh = await freshDatabase();
  db = await openDatabase({ url: fresh.url, schema: SCHEMA, entities, migrations });
});
afterAll(async () => {
  await db.close();
  await fresh.drop();
});

/** The engine on `db` with every statement that reads timers counted and every scheduler call recorded. */
function engineWithRecorders() {
  const scheduled: SchedulerJob[][] = [];
  const cancelled: string[][] = [];
  const scheduler: Scheduler = {
    schedule: async (jobs) => void scheduled.push([...jobs]),
    cancel: async (ids) => void cancelled.push([...ids]),
    start: async () => {},
    stop: async () => {},
  };
  let timerReads = 0;
  const counted: Database = Object.create(db, {
    query: {
      value: <Row>(em: Parameters<Database["query"]>[0], sql: string, params?: readonly unknown[]) => {
        if (/^SELECT task_id, reminder_id, fire_at FROM/.test(sql)) timerReads++;
        return db.query<Row>(em, sql, params);
      },
    },
  });
  const engine = new ReminderEngine(counted, scheduler, {}, logger);
  return { engine, scheduled, cancelled, timerReads: () => timerReads };
}

function createdEvent(userId: string, reminders: { id: string; beforeDueMs: number }[]): TaskEvent {
  const due = new Date(Date.now() + 86_400_000);
  const task = create(TaskSchema, {
    id: randomUUID(),
    title: `water the plants of ${userId}`,
    version: 1n,
    due: { case: "dueTime", value: timestampFromDate(due) },
    timeZone: "UTC",
    reminders: reminders.map((r) => ({ id: r.id, trigger: { case: "beforeDue" as const, value: durationFromMs(r.beforeDueMs) } })),
  });
  return create(TaskEventSchema, {
    eventId: randomUUID(),
    occurredAt: timestampFromDate(new Date()),
    taskId: task.id,
    version: 1n,
    event: { case: "created", value: { task } },
  });
}

test("a task without reminders reads no timers and calls no scheduler; one with a reminder has its timer armed", async () => {
  const { engine, scheduled, cancelled, timerReads } = engineWithRecorders();
  await engine.applyTaskEvents([createdEvent("ann", [])]);
  expect(timerReads()).toBe(0);
  expect(scheduled).toEqual([]);
  expect(cancelled).toEqual([]);

  const withReminder = createdEvent("ann", [{ id: "r1", beforeDueMs: 3_600_000 }]);
  await engine.applyTaskEvents([createdEvent("ann", []), withReminder]);
  expect(timerReads()).toBe(1);
  expect(scheduled.flat().map((job) => job.id)).toEqual([expect.stringContaining(withReminder.taskId)]);
});

test("a duplicate of an applied event syncs its task's timers again, even for a task without reminders", async () => {
  const { engine, scheduled, timerReads } = engineWithRecorders();
  const withReminder = createdEvent("bob", [{ id: "r1", beforeDueMs: 60_000 }]);
  const without = createdEvent("bob", []);
  await engine.applyTaskEvents([withReminder, without]);
  expect(timerReads()).toBe(1);
  await engine.applyTaskEvents([withReminder, without]);
  expect(timerReads()).toBe(2);
  expect(scheduled.map((jobs) => jobs.map((job) => job.id))).toEqual([[expect.stringContaining(withReminder.taskId)], [expect.stringContaining(withReminder.taskId)]]);
});
