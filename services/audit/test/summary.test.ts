// Readable summaries and undo requests for every event kind and every field, from events as the
// producers write them (no database: the record → entry path is pure).
import { test } from "vitest";
import assert from "node:assert/strict";
import { create, toJson, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ActivityKind, type ActivityEntry } from "@taskmesh/proto/taskmesh/audit/v1/activity_pb.js";
import { Priority, RecurrenceMode, TaskSchema, TaskStatus } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { UpdateTaskRequestSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { activityOf } from "../src/activity-record.js";
import type { ActivityRow } from "../src/activity-store.js";
import { entryFromRow } from "../src/audit-service.js";
import { reminderEvent, taskEvent } from "./fixtures.js";

const TASK = "6b1e4c1e-0000-4000-8000-000000000001";
const AT = new Date("2026-12-02T15:00:00Z");
type TaskInit = MessageInitShape<typeof TaskSchema>;

/** The entry ListActivity would return for an event (as if stored, then read back). */
function entryOf(event: Parameters<typeof activityOf>[0] & { eventId: string }, last?: { title: string; zone: string }): ActivityEntry {
  const r = activityOf(event, event.eventId)!;
  const row: ActivityRow = {
    ...r,
    seq: "1",
    occurredKey: "",
    taskVersion: r.taskVersion.toString(),
    taskTitle: r.taskTitle || last?.title || "",
    timeZone: r.timeZone || last?.zone || "UTC",
    // Stored as JSON and read back.
    changes: JSON.parse(JSON.stringify(r.changes)),
  };
  return entryFromRow(row);
}

function task(init: TaskInit = {}) {
  return create(TaskSchema, { id: TASK, title: "Pay rent", status: TaskStatus.OPEN, priority: Priority.HIGH, timeZone: "Europe/Berlin", version: 3n, ...init });
}

function updated(before: TaskInit, after: TaskInit, changedFields: string[]) {
  return entryOf(taskEvent("alice", TASK, 4, { case: "updated", value: { before: task(before), after: task({ ...before, ...after, version: 4n } as TaskInit), changedFields } }, AT));
}

test("every field of an update reads as a sentence", () => {
  const cases: [TaskInit, TaskInit, string[], string][] = [
    [{ priority: Priority.HIGH }, { priority: Priority.LOW }, ["priority"], "priority high → low"],
    [{ priority: Priority.NONE }, { priority: Priority.MEDIUM }, ["priority"], "priority none → medium"],
    [{ title: "Pay rent" }, { title: "Pay the rent" }, ["title"], 'title "Pay rent" → "Pay the rent"'],
    [{ notes: "" }, { notes: "landlord" }, ["notes"], "notes added"],
    [{ notes: "a" }, { notes: "b" }, ["notes"], "notes edited"],
    [{ notes: "a" }, { notes: "" }, ["notes"], "notes cleared"],
    [{ tags: ["home", "work"] }, { tags: ["home", "errands", "money"] }, ["tags"], "tags errands, money added, tag work removed"],
    [
      { due: { case: "dueTime", value: timestampFromDate(new Date("2026-12-03T08:00:00Z")) } },
      { due: { case: "dueTime", value: timestampFromDate(new Date("2026-12-04T08:00:00Z")) } },
      ["due_time"],
      "due moved from Thu 3 Dec 09:00 to Fri 4 Dec 09:00",
    ],
    [{ due: { case: "dueDate", value: "2026-12-03" } }, { due: { case: "dueDate", value: "2027-01-05" } }, ["due_date"], "due moved from Thu 3 Dec to Tue 5 Jan 2027"],
    [{}, { due: { case: "dueDate", value: "2026-12-24" } }, ["due_date"], "due set to Thu 24 Dec"],
    [{ due: { case: "dueDate", value: "2026-12-24" } }, { due: { case: undefined } }, ["due_time"], "due removed (was Thu 24 Dec)"],
    [{ timeZone: "Europe/Berlin" }, { timeZone: "Asia/Tokyo" }, ["time_zone"], "time zone Europe/Berlin → Asia/Tokyo"],
    [{}, { recurrence: { rrule: "FREQ=WEEKLY", mode: RecurrenceMode.SCHEDULE } }, ["recurrence"], "repeat set (FREQ=WEEKLY)"],
    [
      { recurrence: { rrule: "FREQ=WEEKLY" } },
      { recurrence: { rrule: "FREQ=DAILY;INTERVAL=3", mode: RecurrenceMode.AFTER_COMPLETION } },
      ["recurrence"],
      "repeat FREQ=WEEKLY → FREQ=DAILY;INTERVAL=3 after completion",
    ],
    [{ recurrence: { rrule: "FREQ=WEEKLY" } }, { recurrence: undefined }, ["recurrence"], "repeat removed"],
    [
      { reminders: [{ id: "a", trigger: { case: "beforeDue", value: { seconds: 600n } } }] },
      {
        reminders: [
          { id: "a", trigger: { case: "beforeDue", value: { seconds: 900n } } },
          { id: "b", trigger: { case: "beforeDue", value: { seconds: 60n } } },
        ],
      },
      ["reminders"],
      "reminder added, reminder changed",
    ],
  ];
  for (const [before, after, fields, summary] of cases) {
    const entry = updated(before, after, fields);
    assert.equal(entry.kind, ActivityKind.TASK_UPDATED);
    assert.equal(entry.summary, summary, `${fields} ${JSON.stringify(toJson(TaskSchema, task(after)))}`);
    assert.equal(entry.changes.length, 1);
    assert.equal(entry.changes[0]!.summary, summary);
  }
});

test("several fields: one change each, joined; device, version and title of the update", () => {
  const entry = updated(
    { priority: Priority.HIGH, due: { case: "dueTime", value: timestampFromDate(new Date("2026-12-03T08:00:00Z")) } },
    { priority: Priority.LOW, title: "Pay rent now", due: { case: "dueTime", value: timestampFromDate(new Date("2026-12-04T08:00:00Z")) } },
    ["title", "priority", "due_time"],
  );
  assert.equal(entry.summary, 'title "Pay rent" → "Pay rent now"; priority high → low; due moved from Thu 3 Dec 09:00 to Fri 4 Dec 09:00');
  assert.deepEqual(
    entry.changes.map((c) => [c.field, c.before?.kind.value, c.after?.kind.value]),
    [
      ["title", "Pay rent", "Pay rent now"],
      ["priority", "PRIORITY_HIGH", "PRIORITY_LOW"],
      ["due", "2026-12-03T08:00:00Z", "2026-12-04T08:00:00Z"],
    ],
  );
  assert.equal(entry.device, "phone");
  assert.equal(entry.actor, "alice");
  assert.equal(entry.taskVersion, 4n);
  assert.equal(entry.taskTitle, "Pay rent now");
});

test("an update's undo is UpdateTask with the before values, the changed fields and the version after", () => {
  const entry = updated(
    { priority: Priority.HIGH, tags: ["home"], due: { case: "dueDate", value: "2026-12-03" } },
    { priority: Priority.LOW, tags: [], due: { case: "dueTime", value: timestampFromDate(new Date("2026-12-04T08:00:00Z")) } },
    ["priority", "tags", "due_time"],
  );
  assert.equal(entry.undo?.request.case, "updateTask");
  const undo = entry.undo.request.value as ReturnType<typeof create<typeof UpdateTaskRequestSchema>>;
  assert.equal(undo.expectedVersion, 4n);
  assert.deepEqual(undo.updateMask?.paths, ["priority", "tags", "due_time"]);
  assert.equal(undo.task?.id, TASK);
  assert.equal(undo.task?.priority, Priority.HIGH);
  assert.deepEqual(undo.task?.tags, ["home"]);
  assert.deepEqual(undo.task?.due, { case: "dueDate", value: "2026-12-03" });
});

test("subtasks and manual order in the history: made a subtask or moved up (undone by UpdateTask), moved in the list (no undo)", () => {
  const PARENT = "6b1e4c1e-0000-4000-8000-000000000002";
  const cases: [TaskInit, TaskInit, string[], string][] = [
    [{}, { parentId: PARENT }, ["parent_id"], "made a subtask"],
    [{ parentId: PARENT }, { parentId: "" }, ["parent_id"], "moved to the top level"],
    [{ parentId: PARENT }, { parentId: TASK.replace(/1$/, "3") }, ["parent_id"], "moved under another task"],
    [{ orderKey: "a1" }, { orderKey: "a0V" }, ["order_key"], "moved in the list"],
  ];
  for (const [before, after, fields, summary] of cases) assert.equal(updated(before, after, fields).summary, summary);
  const up = updated({ parentId: PARENT }, { parentId: "" }, ["parent_id"]);
  const undo = up.undo?.request.value as ReturnType<typeof create<typeof UpdateTaskRequestSchema>>;
  assert.deepEqual([undo.updateMask?.paths, undo.task?.parentId], [["parent_id"], PARENT]);
  const made = updated({}, { parentId: PARENT }, ["parent_id"]).undo?.request.value as ReturnType<typeof create<typeof UpdateTaskRequestSchema>>;
  assert.deepEqual([made.updateMask?.paths, made.task?.parentId], [["parent_id"], ""]);
  assert.equal(updated({ orderKey: "a1" }, { orderKey: "a0V" }, ["order_key"]).undo, undefined);
});

test("moves between projects and sections, assignments: recorded with their ids, undone by UpdateTask", () => {
  const [HOME, WORK, PAINT, ANN, BOB] = ["p-home", "p-work", "s-paint", "ann", "bob"];
  const cases: [TaskInit, TaskInit, string[], string][] = [
    [{ projectId: HOME }, { projectId: WORK }, ["project_id", "parent_id", "assignee_id"], "moved to another project"],
    [{ projectId: HOME }, { projectId: HOME, sectionId: PAINT }, ["section_id"], "moved into a section"],
    [{ projectId: HOME, sectionId: PAINT }, { sectionId: "" }, ["section_id"], "moved out of its section"],
    [{ sectionId: PAINT }, { sectionId: "s-other" }, ["section_id"], "moved to another section"],
    [{}, { assigneeId: ANN }, ["assignee_id"], "assigned"],
    [{ assigneeId: ANN }, { assigneeId: BOB }, ["assignee_id"], "reassigned"],
    [{ assigneeId: ANN }, { assigneeId: "" }, ["assignee_id"], "unassigned"],
  ];
  for (const [before, after, fields, summary] of cases) assert.equal(updated(before, after, fields).summary, summary);
  // A move that cleared the section and the assignee (not a member there) is undone as one call.
  const moved = updated({ projectId: HOME, sectionId: PAINT, assigneeId: ANN }, { projectId: WORK, sectionId: "", assigneeId: "" }, ["project_id", "parent_id", "assignee_id"]);
  assert.equal(moved.summary, "moved to another project; unassigned");
  assert.deepEqual(
    moved.changes.map((c) => c.field),
    ["project", "assignee"],
  );
  const undo = moved.undo?.request.value as ReturnType<typeof create<typeof UpdateTaskRequestSchema>>;
  assert.deepEqual([undo.updateMask?.paths, undo.task?.projectId, undo.task?.assigneeId], [["project_id", "assignee_id"], HOME, ANN]);
});

test("created, completed, reopened and deleted: summaries and the call that reverts each", () => {
  const at = (v: number, event: Parameters<typeof taskEvent>[3]) => entryOf(taskEvent("alice", TASK, v, event, AT));
  const created = at(1, { case: "created", value: { task: task({ version: 1n }) } });
  assert.equal(created.summary, 'created "Pay rent"');
  assert.deepEqual([created.undo?.request.case, created.undo?.request.value], ["deleteTask", created.undo?.request.value]);
  assert.equal((created.undo!.request.value as { expectedVersion: bigint }).expectedVersion, 1n);

  const completed = at(5, { case: "completed", value: { task: task({ status: TaskStatus.COMPLETED, version: 5n }) } });
  assert.equal(completed.summary, "completed");
  assert.equal(completed.undo?.request.case, "reopenTask");
  assert.equal((completed.undo!.request.value as { id: string; expectedVersion: bigint }).expectedVersion, 5n);

  const reopened = at(6, { case: "reopened", value: { task: task({ version: 6n }) } });
  assert.equal(reopened.summary, "reopened");
  assert.equal(reopened.undo?.request.case, "completeTask");

  const deleted = at(7, { case: "deleted", value: { task: task({ version: 7n, tags: ["home"], notes: "landlord" }) } });
  assert.equal(deleted.summary, 'deleted "Pay rent"');
  // Back under its id, with its comments (RestoreTask), where it was.
  assert.deepEqual([deleted.undo?.request.case, (deleted.undo!.request.value as { id: string }).id], ["restoreTask", TASK]);
  const restored = at(8, { case: "created", value: { task: task({ version: 8n }) } });
  assert.equal(restored.summary, 'restored "Pay rent"');
  assert.equal(restored.undo?.request.case, "deleteTask");
});

test("reminder events: summaries in the task's zone, the system as the one who fired, no undo", () => {
  const last = { title: "Pay rent", zone: "Europe/Berlin" };
  const fireAt = timestampFromDate(new Date("2026-12-04T07:30:00Z"));
  const scheduled = entryOf(reminderEvent("alice", TASK, "r1", { case: "scheduled", value: { fireAt } }, AT), last);
  assert.equal(scheduled.summary, "reminder set for Fri 4 Dec 08:30");
  assert.equal(scheduled.kind, ActivityKind.REMINDER_SCHEDULED);
  assert.equal(scheduled.reminder?.reminderId, "r1");
  assert.equal(scheduled.taskTitle, "Pay rent");
  assert.equal(scheduled.actor, "alice");
  assert.equal(scheduled.undo, undefined);

  const fired = entryOf(reminderEvent("alice", TASK, "r1", { case: "fired", value: { scheduledFor: fireAt, firedAt: fireAt, taskTitle: "Pay rent!" } }, AT), last);
  assert.equal(fired.summary, "reminder fired");
  assert.equal(fired.actor, "", "nobody fired it: the system did");
  assert.equal(fired.taskTitle, "Pay rent!");

  const until = timestampFromDate(new Date("2026-12-04T08:30:00Z"));
  const snoozed = entryOf(reminderEvent("alice", TASK, "r1", { case: "snoozed", value: { until } }, AT), last);
  assert.equal(snoozed.summary, "reminder snoozed until Fri 4 Dec 09:30");

  const cancelled = entryOf(reminderEvent("alice", TASK, "r1", { case: "cancelled", value: { reason: "task completed" } }, AT), last);
  assert.equal(cancelled.summary, "reminder cancelled (task completed)");
  assert.equal(cancelled.reminder?.reason, "task completed");

  // Reading the notification changes the reader's inbox, not the task's history.
  const read = reminderEvent("alice", TASK, "r1", { case: "read", value: { notificationId: "7" } }, AT);
  assert.equal(activityOf(read, read.eventId), undefined);
});

test("an event without changed_fields is compared field by field; unknown kinds are skipped", () => {
  const entry = updated({ priority: Priority.HIGH, notes: "x" }, { priority: Priority.LOW, notes: "x" }, []);
  assert.equal(entry.summary, "priority high → low");
  const empty = taskEvent("alice", TASK, 2, { case: undefined });
  assert.equal(activityOf(empty, empty.eventId), undefined);
});
