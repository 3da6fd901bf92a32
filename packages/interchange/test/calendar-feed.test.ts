// The feed read back by ical.js: the series' remaining COUNT, skipped days as EXDATEs at the due's
// local time, floating times, tasks that repeat after completion, completed tasks and ones without a due.
import { test } from "vitest";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Priority, RecurrenceMode, TaskSchema, TaskStatus } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import ICAL from "ical.js";
import { calendarFeed } from "@taskmesh/interchange";

const at = (iso: string) => ({ case: "dueTime" as const, value: timestampFromDate(new Date(iso)) });

function events(text: string): ICAL.Event[] {
  const calendar = new ICAL.Component(ICAL.parse(text));
  for (const zone of calendar.getAllSubcomponents("vtimezone")) ICAL.TimezoneService.register(new ICAL.Timezone(zone));
  return calendar.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v));
}

function occurrences(event: ICAL.Event, n: number): string[] {
  const it = event.iterator();
  const out: string[] = [];
  for (let next = it.next(); next && out.length < n; next = it.next()) out.push(next.toJSDate().toISOString());
  return out;
}

test("the remaining COUNT, EXDATEs at the due's local time, floating and after-completion tasks", () => {
  const open = TaskStatus.OPEN;
  const text = calendarFeed({
    name: "Tasks",
    timeZone: "Europe/Berlin",
    tasks: [
      // The third of five daily occurrences, 09:00 in Berlin; the 12th is skipped.
      create(TaskSchema, {
        id: "a",
        seriesId: "s",
        title: "Stretch",
        status: open,
        priority: Priority.LOW,
        due: at("2026-12-10T08:00:00Z"),
        recurrence: { rrule: "FREQ=DAILY;COUNT=5", occurrence: 3, exdates: ["2026-12-12"] },
      }),
      create(TaskSchema, { id: "b", title: "Wake up", status: open, due: at("2026-12-10T06:30:00Z"), timeZone: "UTC", recurrence: { rrule: "FREQ=DAILY", floating: true } }),
      create(TaskSchema, {
        id: "c",
        title: "Water plants",
        status: open,
        due: { case: "dueDate", value: "2026-12-11" },
        recurrence: { rrule: "FREQ=DAILY;INTERVAL=3", mode: RecurrenceMode.AFTER_COMPLETION },
      }),
      create(TaskSchema, { id: "d", title: "Done", status: TaskStatus.COMPLETED, due: { case: "dueDate", value: "2026-12-11" } }),
      create(TaskSchema, { id: "e", title: "Someday", status: open }),
    ],
  });
  const [stretch, wake, water, ...rest] = events(text);
  assert.equal(rest.length, 0, "completed tasks and tasks without a due are left out");
  assert.equal(stretch!.uid, "s@taskmesh", "one event per series");
  assert.equal(stretch!.component.getFirstPropertyValue("priority"), 9);
  assert.deepEqual(occurrences(stretch!, 10), ["2026-12-10T08:00:00.000Z", "2026-12-11T08:00:00.000Z"], "3 left of 5, the 12th skipped");
  assert.equal(wake!.startDate.zone, ICAL.Timezone.localTimezone, "floating: no zone");
  assert.equal(wake!.startDate.toString(), "2026-12-10T06:30:00");
  assert.equal(water!.isRecurring(), false, "after completion: only the next due");
  assert.equal(water!.startDate.toString(), "2026-12-11");
});
