// Which timers a batch of task events syncs: those of the tasks with reminders, and those of a
// duplicate's task (its first delivery may have committed and failed to schedule); a task without
// reminders costs no read of the reminders table and no call to the scheduler, and a task new to
// the service no read of its (not yet written) reminder rows. Real PostgreSQL; the scheduler
// records its calls.
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
  let rowLocks = 0;
  const counted: Database = Object.create(db, {
    query: {
      value: <Row>(em: Parameters<Database["query"]>[0], sql: string, params?: readonly unknown[]) => {
        if (/^SELECT task_id, reminder_id, fire_at FROM/.test(sql)) timerReads++;
        if (/FROM reminders\.reminders .*FOR UPDATE$/.test(sql)) rowLocks++;
        return db.query<Row>(em, sql, params);
      },
    },
  });
  const engine = new ReminderEngine(counted, scheduler, {}, logger);
  return { engine, scheduled, cancelled, timerReads: () => timerReads, rowLocks: () => rowLocks };
}

function createdEvent(userId: string, reminders: { id: string; beforeDueMs: number }[]): TaskEvent {
  const due = new Date(Date.now() + 86_400_000);
  const task = create(TaskSchema, {
    id: randomUUID(),
    title: "water the plants",
    version: 1n,
    due: { case: "dueTime", value: timestampFromDate(due) },
    timeZone: "UTC",
    reminders: reminders.map((r) => ({ id: r.id, trigger: { case: "beforeDue" as const, value: durationFromMs(r.beforeDueMs) } })),
  });
  return create(TaskEventSchema, {
    eventId: randomUUID(),
    occurredAt: timestampFromDate(new Date()),
    userId,
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

test("a task new to the service is armed without reading its reminder rows; a change of a known task reads and locks them, and cancels what it dropped", async () => {
  const { engine, scheduled, cancelled, rowLocks } = engineWithRecorders();
  const created = createdEvent("cat", [{ id: "r1", beforeDueMs: 60_000 }]);
  await engine.applyTaskEvents([created]);
  expect(rowLocks()).toBe(0);
  expect(scheduled.flat().map((job) => job.id)).toEqual([expect.stringContaining(created.taskId)]);

  const before = created.event.case === "created" ? created.event.value.task! : undefined;
  const after = create(TaskSchema, { ...before, $typeName: undefined, version: 2n, reminders: [] });
  const updated = create(TaskEventSchema, {
    eventId: randomUUID(),
    occurredAt: timestampFromDate(new Date()),
    userId: "cat",
    taskId: created.taskId,
    version: 2n,
    event: { case: "updated", value: { before, after, changedFields: ["reminders"] } },
  });
  await engine.applyTaskEvents([updated]);
  expect(rowLocks()).toBe(1);
  expect(cancelled.flat()).toEqual([expect.stringContaining(created.taskId)]);
});
