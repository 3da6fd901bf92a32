// The views' grouping: tasks by day in the viewer's zone (Today, Upcoming, the month), by section
// (the board), and the UpdateTask request of a drag onto another day.
import { test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { RecurrenceSchema, TaskSchema, type Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { boardColumns, dueDay, monthWeeks, rescheduleRequest, todayGroups, upcomingGroups } from "../src/views/days.js";

const BERLIN = "Europe/Berlin";
const onDate = (id: string, date: string) => create(TaskSchema, { id, title: id, version: 3n, due: { case: "dueDate", value: date } });
const atTime = (id: string, iso: string, timeZone = "") => create(TaskSchema, { id, title: id, version: 3n, timeZone, due: { case: "dueTime", value: timestampFromDate(new Date(iso)) } });
const ids = (tasks: Task[]) => tasks.map((t) => t.id);

test("a timed task is on the viewer's day, an all-day task on its own date", () => {
  // 21:00 in New York on the 7th is 03:00 on the 8th in Berlin.
  assert.equal(dueDay(atTime("ny", "2027-01-08T02:00:00Z", "America/New_York"), BERLIN), "2027-01-08");
  assert.equal(dueDay(atTime("ny", "2027-01-08T02:00:00Z", "America/New_York"), "America/New_York"), "2027-01-07");
  assert.equal(dueDay(onDate("d", "2027-01-07"), "Pacific/Auckland"), "2027-01-07");
  assert.equal(dueDay(create(TaskSchema, { id: "none" }), BERLIN), undefined);
});

test("Today: overdue first (every day before today in one group, only when there is any), then today", () => {
  // 00:30 on the 4th in Berlin, still the 3rd in UTC.
  const tasks = [onDate("old", "2026-11-20"), atTime("late", "2026-12-03T23:30:00Z"), atTime("now", "2026-12-04T08:00:00Z"), onDate("today", "2026-12-04")];
  const groups = todayGroups(tasks, "2026-12-04", BERLIN);
  assert.deepEqual(
    groups.map((g) => [g.day, ids(g.tasks)]),
    [
      [undefined, ["old"]],
      ["2026-12-04", ["late", "now", "today"]],
    ],
  );
  assert.deepEqual(
    todayGroups([onDate("today", "2026-12-04")], "2026-12-04", BERLIN).map((g) => g.day),
    ["2026-12-04"],
  );
  assert.deepEqual(
    todayGroups([], "2026-12-04", BERLIN).map((g) => [g.day, g.tasks.length]),
    [["2026-12-04", 0]],
  );
});

test("Upcoming: every one of the next days, empty ones too, in order, then later days with tasks", () => {
  const tasks = [onDate("fri", "2026-12-04"), atTime("sun", "2026-12-06T10:00:00Z"), onDate("sun2", "2026-12-06"), onDate("later", "2026-12-20")];
  const groups = upcomingGroups(tasks, "2026-12-04", 7, BERLIN);
  assert.deepEqual(
    groups.map((g) => [g.day, ids(g.tasks)]),
    [
      ["2026-12-04", ["fri"]],
      ["2026-12-05", []],
      ["2026-12-06", ["sun", "sun2"]],
      ["2026-12-07", []],
      ["2026-12-08", []],
      ["2026-12-09", []],
      ["2026-12-10", []],
      ["2026-12-20", ["later"]],
    ],
  );
  // Across the end of the year and of February.
  assert.deepEqual(
    upcomingGroups([], "2026-12-30", 3, BERLIN).map((g) => g.day),
    ["2026-12-30", "2026-12-31", "2027-01-01"],
  );
  assert.deepEqual(
    upcomingGroups([], "2028-02-28", 2, BERLIN).map((g) => g.day),
    ["2028-02-28", "2028-02-29"],
  );
});

test("a month's weeks run Monday to Sunday and cover every day of it", () => {
  const december = monthWeeks("2026-12");
  assert.equal(december.length, 5);
  assert.deepEqual([december[0]![0], december[4]![6]], ["2026-11-30", "2027-01-03"]);
  assert.ok(december.every((w) => w.length === 7));
  // February 2027 starts on a Monday and ends on a Sunday: four weeks, nothing of other months.
  assert.deepEqual(
    monthWeeks("2027-02").map((w) => [w[0], w[6]]),
    [
      ["2027-02-01", "2027-02-07"],
      ["2027-02-08", "2027-02-14"],
      ["2027-02-15", "2027-02-21"],
      ["2027-02-22", "2027-02-28"],
    ],
  );
  // A month starting on a Sunday needs six.
  assert.equal(monthWeeks("2026-11").length, 6);
});

test("a drag to another day keeps a timed task's time of day on its own zone's clock, across a DST change", () => {
  // Listed under Fri 8 Jan in Berlin (03:00), 21:00 Thu 7 Jan in New York; dropped on Sat 9 Jan.
  const ny = atTime("ny", "2027-01-08T02:00:00Z", "America/New_York");
  const moved = rescheduleRequest(ny, "2027-01-09", BERLIN)!;
  assert.deepEqual(moved.updateMask?.paths, ["due_time", "due_date"]);
  assert.equal(moved.task?.due.case, "dueTime");
  assert.equal(timestampDate(moved.task!.due.value as never).toISOString(), "2027-01-09T02:00:00.000Z");
  assert.equal(moved.expectedVersion, 3n);
  // 09:00 Berlin on Sat 27 March 2027 (CET) moved to Monday is 09:00 CEST, an hour earlier in UTC.
  const spring = rescheduleRequest(atTime("b", "2027-03-27T08:00:00Z", BERLIN), "2027-03-29", BERLIN)!;
  assert.equal(timestampDate(spring.task!.due.value as never).toISOString(), "2027-03-29T07:00:00.000Z");
  assert.deepEqual(spring.updateMask?.paths, ["due_time", "due_date"]);
});

test("a drag to another day moves an all-day task's date; a task without a zone gets the viewer's; the same day sends nothing", () => {
  const moved = rescheduleRequest(onDate("d", "2026-12-04"), "2026-12-07", BERLIN)!;
  assert.deepEqual(moved.task?.due, { case: "dueDate", value: "2026-12-07" });
  assert.deepEqual(moved.updateMask?.paths, ["due_time", "due_date", "time_zone"]);
  assert.equal(moved.task?.timeZone, BERLIN);
  assert.equal(rescheduleRequest(onDate("d", "2026-12-04"), "2026-12-04", BERLIN), undefined);
  assert.equal(rescheduleRequest(create(TaskSchema, { id: "none", version: 1n }), "2026-12-04", BERLIN), undefined);
});

test("a repeating task moved to another day restarts its series from there, as the editor does", () => {
  const task = create(TaskSchema, { ...onDate("r", "2026-12-04"), timeZone: BERLIN, recurrence: create(RecurrenceSchema, { rrule: "FREQ=WEEKLY" }) });
  const moved = rescheduleRequest(task, "2026-12-05", BERLIN)!;
  assert.deepEqual(moved.updateMask?.paths, ["due_time", "due_date", "recurrence"]);
  assert.equal(moved.task?.recurrence?.rrule, "FREQ=WEEKLY");
});

test("the board: no section first, then each section in order, top-level tasks only, an unknown section as none", () => {
  const t = (id: string, sectionId = "", parentId = "") => create(TaskSchema, { id, title: id, sectionId, parentId });
  const columns = boardColumns(
    [t("a", "s2"), t("b"), t("c", "s1"), t("c1", "s1", "c"), t("d", "gone"), t("e", "s2", "not-listed")],
    [
      { id: "s1", name: "Doing" },
      { id: "s2", name: "Done" },
    ],
  );
  assert.deepEqual(
    columns.map((c) => [c.sectionId, c.name, ids(c.tasks)]),
    [
      ["", "No section", ["b", "d"]],
      ["s1", "Doing", ["c"]],
      ["s2", "Done", ["a", "e"]],
    ],
  );
});
