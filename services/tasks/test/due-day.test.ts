// An all-day due's day and the instant it starts in the task's zone, answered from memory the
// second time: the answer must be the one for that date in that zone, and a bad date stays bad.
import { test } from "vitest";
import assert from "node:assert/strict";
import { Priority } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { toTaskFields, type TaskFields, type WritableTask } from "../src/task-fields.js";

const allDay = (date: string, timeZone: string): WritableTask => ({
  title: "t",
  notes: "",
  priority: Priority.UNSPECIFIED,
  tags: [],
  due: { case: "dueDate", value: date },
  timeZone,
  reminders: [],
});

const fields = (date: string, timeZone: string) => toTaskFields(allDay(date, timeZone), "UTC", "task");

test("the same day in two zones starts at two instants, asked once or twice", () => {
  for (let round = 0; round < 2; round++) {
    const paris = fields("2026-03-29", "Europe/Paris") as TaskFields;
    const newYork = fields("2026-03-29", "America/New_York") as TaskFields;
    assert.equal(paris.dueDate, "2026-03-29");
    assert.equal(paris.dueAt?.toISOString(), "2026-03-28T23:00:00.000Z");
    assert.equal(newYork.dueAt?.toISOString(), "2026-03-29T04:00:00.000Z");
  }
});

test("a date that is not one is refused every time it is sent", () => {
  for (let round = 0; round < 2; round++) {
    const violations = fields("2026-02-30", "Europe/Paris");
    assert.ok(Array.isArray(violations));
    assert.deepEqual(
      violations.map((v) => v.ruleId),
      ["due_date.calendar"],
    );
  }
});
