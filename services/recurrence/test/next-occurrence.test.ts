import { test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { TaskEventSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { RecurrenceMode, TaskSchema, TaskStatus, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { idForRequest } from "@taskmesh/kit";
import { nextOccurrenceKey, planNextOccurrence, withdrawnOccurrence, type CreateTaskInit } from "../src/next-occurrence.js";

function completed(init: MessageInitShape<typeof TaskSchema>) {
  const task = create(TaskSchema, { id: "3f1c2a9e-0000-4000-8000-000000000001", status: TaskStatus.COMPLETED, timeZone: "Europe/Berlin", ...init });
  return create(TaskEventSchema, { userId: "u1", taskId: task.id, event: { case: "completed", value: { task } } });
}

/** The task the planned request would create, as the next event would carry it. */
function asCompletedTask(req: CreateTaskInit, id: string): MessageInitShape<typeof TaskSchema> {
  return { id, title: req.title, due: req.due, timeZone: req.timeZone, recurrence: req.recurrence, reminders: req.reminders, seriesId: req.seriesId, status: TaskStatus.COMPLETED };
}

test("only completions of recurring tasks have a next occurrence", () => {
  assert.equal(planNextOccurrence(completed({ title: "once", due: { case: "dueDate", value: "2027-01-31" } })), undefined);
  const created = create(TaskEventSchema, { event: { case: "created", value: { task: create(TaskSchema, { recurrence: { rrule: "FREQ=DAILY" } }) } } });
  assert.equal(planNextOccurrence(created), undefined);
});

test("a series on the 31st or the month's last day goes from Jan 31 to Feb 28, then back to Mar 31, carrying what the task had", () => {
  const first = completed({
    title: "Pay rent",
    notes: "landlord",
    tags: ["home"],
    priority: 4,
    due: { case: "dueDate", value: "2027-01-31" },
    recurrence: { rrule: "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1", mode: RecurrenceMode.SCHEDULE, start: { case: "startDate", value: "2027-01-31" }, occurrence: 1 },
  });
  const feb = planNextOccurrence(first)!;
  assert.deepEqual(feb.due, { case: "dueDate", value: "2027-02-28" });
  assert.equal(feb.title, "Pay rent");
  assert.deepEqual(feb.tags, ["home"]);
  assert.equal(feb.seriesId, first.taskId, "the first task names the series");
  assert.equal(feb.requestId, nextOccurrenceKey((first.event.value as { task: Task }).task));
  const mar = planNextOccurrence(completed(asCompletedTask(feb, "3f1c2a9e-0000-4000-8000-000000000002")))!;
  assert.deepEqual(mar.due, { case: "dueDate", value: "2027-03-31" });
  assert.equal(mar.seriesId, first.taskId);
  assert.equal(mar.recurrence?.occurrence, 3);
});

test("a plain monthly series from Jan 31 skips months without a 31st (RFC 5545)", () => {
  const first = completed({ due: { case: "dueDate", value: "2027-01-31" }, recurrence: { rrule: "FREQ=MONTHLY", start: { case: "startDate", value: "2027-01-31" }, occurrence: 1 } });
  assert.deepEqual(planNextOccurrence(first)!.due, { case: "dueDate", value: "2027-03-31" });
});

test("the same completion always plans the same occurrence key; another completion another", () => {
  const ev = completed({ due: { case: "dueDate", value: "2027-01-01" }, recurrence: { rrule: "FREQ=DAILY" } });
  assert.equal(planNextOccurrence(ev)!.requestId, planNextOccurrence(ev)!.requestId);
  const other = completed({ id: "3f1c2a9e-0000-4000-8000-000000000009", due: { case: "dueDate", value: "2027-01-01" }, recurrence: { rrule: "FREQ=DAILY" } });
  assert.notEqual(planNextOccurrence(other)!.requestId, planNextOccurrence(ev)!.requestId);
});

test("reopening an occurrence takes back, at the version it was made with, the task its completion created", () => {
  const done = completed({ due: { case: "dueDate", value: "2027-01-01" }, recurrence: { rrule: "FREQ=DAILY" } });
  const task = done.event.value as { task: Task };
  const reopened = create(TaskEventSchema, { userId: "u1", taskId: task.task.id, event: { case: "reopened", value: { task: { ...task.task, status: TaskStatus.OPEN } } } });
  // The id CreateTask gave the next occurrence: derived from the same user and occurrence key.
  assert.deepEqual(withdrawnOccurrence(reopened), { id: idForRequest("u1", planNextOccurrence(done)!.requestId!), expectedVersion: 1n });
  assert.equal(withdrawnOccurrence(done), undefined);
  const once = create(TaskEventSchema, { userId: "u1", event: { case: "reopened", value: { task: create(TaskSchema, { id: task.task.id }) } } });
  assert.equal(withdrawnOccurrence(once), undefined, "a task that does not repeat made none");
});

test("absolute reminders move with the due; relative ones stay relative", () => {
  const due = new Date("2027-03-01T09:00:00Z");
  const ev = completed({
    due: { case: "dueTime", value: timestampFromDate(due) },
    timeZone: "UTC",
    recurrence: { rrule: "FREQ=WEEKLY" },
    reminders: [
      { id: "abs", trigger: { case: "absoluteTime", value: timestampFromDate(new Date("2027-03-01T08:00:00Z")) } },
      { id: "rel", trigger: { case: "beforeDue", value: { seconds: 600n } } },
    ],
  });
  const next = planNextOccurrence(ev)!;
  assert.equal(next.due?.case, "dueTime");
  assert.equal(timestampDate(next.due!.value as Timestamp).toISOString(), "2027-03-08T09:00:00.000Z");
  const [abs, rel] = next.reminders!;
  assert.equal(timestampDate(abs!.trigger!.value as Timestamp).toISOString(), "2027-03-08T08:00:00.000Z");
  assert.equal(rel!.trigger?.case, "beforeDue");
});

test("COUNT ends the series", () => {
  const last = completed({
    due: { case: "dueDate", value: "2027-01-02" },
    recurrence: { rrule: "FREQ=DAILY;COUNT=2", start: { case: "startDate", value: "2027-01-01" }, occurrence: 2 },
  });
  assert.equal(planNextOccurrence(last), undefined);
});

test("a rule that gives no further date, or one that cannot be read, ends the series with its reason instead of failing each delivery", () => {
  for (const rrule of ["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=SOMETIMES"]) {
    const reasons: string[] = [];
    const event = completed({ due: { case: "dueDate", value: "2027-01-02" }, recurrence: { rrule, start: { case: "startDate", value: "2027-01-02" } } });
    assert.equal(
      planNextOccurrence(event, (_task, why) => reasons.push(why)),
      undefined,
      rrule,
    );
    assert.equal(reasons.length, 1, rrule);
    assert.match(reasons[0]!, /^rrule: /);
  }
});
