// What quick add reads from one line before anything is saved. Times are compared as local
// wall-clock values, as chrono reads them in the browser's zone.
import { test } from "vitest";
import assert from "node:assert/strict";
import { Priority } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { parseQuickAdd } from "@taskmesh/quick-add";
import { allDayBefore, beforeMidnight } from "../src/tasks/format.js";

// Wednesday 25 November 2026, 10:00 local time.
const now = new Date(2026, 10, 25, 10, 0, 0);

test("the brief's example: title, recurrence phrase, tag and priority", () => {
  const draft = parseQuickAdd("Pay rent every month on the 1st at 9am #home !high", now);
  assert.equal(draft.title, "Pay rent");
  assert.equal(draft.recurrenceText, "every month on the 1st at 9am");
  assert.deepEqual(draft.tags, ["home"]);
  assert.equal(draft.priority, Priority.HIGH);
  assert.equal(draft.due, undefined, "the first due comes from the rule, not from chrono");
});

test("a date with a time gives a timed due; without a time an all-day date", () => {
  const timed = parseQuickAdd("Call mom tomorrow at 5pm", now);
  assert.equal(timed.title, "Call mom");
  assert.equal(timed.due?.kind, "time");
  assert.deepEqual(timed.due?.kind === "time" && [timed.due.time.getDate(), timed.due.time.getHours()], [26, 17]);

  const allDay = parseQuickAdd("Submit report by friday #work", now);
  assert.equal(allDay.title, "Submit report", "the dangling 'by' goes with the date");
  assert.deepEqual(allDay.due, { kind: "date", date: "2026-11-27" });
});

test("priorities as words or numbers; !1 is the highest", () => {
  assert.equal(parseQuickAdd("a !1", now).priority, Priority.HIGH);
  assert.equal(parseQuickAdd("a !2", now).priority, Priority.MEDIUM);
  assert.equal(parseQuickAdd("a !low", now).priority, Priority.LOW);
  assert.equal(parseQuickAdd("a !urgent", now).priority, undefined, "not a priority: stays in the title");
  assert.equal(parseQuickAdd("a !urgent", now).title, "a !urgent");
});

test("tags are lower-cased, kept once, and a # inside a word is not a tag", () => {
  const draft = parseQuickAdd("Fix issue#12 #Work #work #home/garden", now);
  assert.deepEqual(draft.tags, ["work", "home/garden"]);
  assert.equal(draft.title, "Fix issue#12");
});

test("reminders before the due and at a time on the due day", () => {
  const before = parseQuickAdd("Dentist tomorrow at 3pm remind me 30 min before", now);
  assert.deepEqual(before.reminder, { kind: "before", seconds: 1800 });
  assert.equal(before.title, "Dentist");

  const dayBefore = parseQuickAdd("Pay rent every month on the 1st at 9am remind me 1 day before #home", now);
  assert.deepEqual(dayBefore.reminder, { kind: "before", seconds: 86400 });
  assert.equal(dayBefore.recurrenceText, "every month on the 1st at 9am");

  const at = parseQuickAdd("Dentist tomorrow at 3pm remind me at 2pm", now);
  assert.equal(at.reminder?.kind, "at");
  const time = at.reminder?.kind === "at" ? at.reminder.time : undefined;
  assert.deepEqual([time?.getDate(), time?.getHours()], [26, 14], "2pm on the due day, not the day after");
  assert.equal(at.title, "Dentist");
});

test("a recurring task can name its first due with 'starting'", () => {
  const draft = parseQuickAdd("Water plants every 3 days starting next monday", now);
  assert.equal(draft.title, "Water plants");
  assert.equal(draft.recurrenceText, "every 3 days");
  assert.deepEqual(draft.due, { kind: "date", date: "2026-11-30" });
});

test("plain text stays the title", () => {
  const draft = parseQuickAdd("  Buy   milk  ", now);
  assert.deepEqual(draft, { title: "Buy milk", tags: [] });
});

test("rule words used as adjectives stay in the title", () => {
  const draft = parseQuickAdd("Prepare quarterly report by friday #work !medium", now);
  assert.equal(draft.recurrenceText, undefined);
  assert.equal(draft.title, "Prepare quarterly report");
  assert.deepEqual(draft.due, { kind: "date", date: "2026-11-27" });
  assert.equal(parseQuickAdd("Review budget monthly", now).recurrenceText, "monthly");
  assert.equal(parseQuickAdd("Standup daily at 9:30", now).recurrenceText, "daily at 9:30");
});

test("an all-day task's reminder 'before' is the day before at 09:00, and the editor reads it back", () => {
  const draft = parseQuickAdd("Plan trip in 3 weeks remind me 30 min before", now);
  assert.deepEqual(draft.due, { kind: "date", date: "2026-12-16" });
  assert.deepEqual(draft.reminder, { kind: "before", seconds: 15 * 3600, morningOf: "1 day before" });
  assert.deepEqual(allDayBefore(15 * 3600), { days: 1, time: "09:00" });
  assert.deepEqual(allDayBefore(2 * 86400 - 7.5 * 3600), { days: 2, time: "07:30" });
  assert.equal(beforeMidnight(1, "09:00"), 54000);
  assert.equal(beforeMidnight(3, "18:15"), 3 * 86400 - (18 * 3600 + 15 * 60));
  const timed = parseQuickAdd("Dentist tomorrow at 3pm remind me 30 min before", now);
  assert.deepEqual(timed.reminder, { kind: "before", seconds: 1800 }, "a timed due keeps the offset as typed");
});
